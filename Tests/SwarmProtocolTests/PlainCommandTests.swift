import SwarmProtocol
import Testing

@Suite struct PlainCommandTests {
    @Test func plainWordsAreSplitOnSpaces() {
        #expect(PlainCommand.words("/bin/sh task.md") == ["/bin/sh", "task.md"])
        #expect(PlainCommand.words("claude  -p --model=opus-4 a,b:c+d@e%f") == [
            "claude", "-p", "--model=opus-4", "a,b:c+d@e%f",
        ])
        #expect(PlainCommand.words("./run.sh") == ["./run.sh"])
    }

    @Test func anythingTheShellWouldInterpretNeedsTheShell() {
        for command in [
            "", "   ", "echo hi", "cd /tmp", "exit 3", "exec sh", ". ./env", "if true", "FOO=1 cmd",
            "cmd 'quoted'", "cmd \"quoted\"", "cmd $HOME", "cmd > out", "cmd < in", "a | b", "a; b", "a && b",
            "cmd *", "cmd ?", "cmd [a]", "cmd ~", "cmd # note", "cmd\targ", "cmd\narg", "cmd \\x", "cmd `x`",
            "cmd (x)", "cmd {x}", "cmd !", "cmd &", "café", "true",
        ] {
            #expect(PlainCommand.words(command) == nil, "\(command)")
        }
    }
}
