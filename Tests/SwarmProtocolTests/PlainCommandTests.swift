import SwarmProtocol
import Testing

@Suite struct PlainCommandTests {
    @Test func plainWordsAreSplitOnSpaces() {
        #expect(PlainCommand.words("/bin/sh task.md") == ["/bin/sh", "task.md"])
        #expect(
            PlainCommand.words("claude  -p --model=opus-4 a,b:c+d@e%f") == [
                "claude", "-p", "--model=opus-4", "a,b:c+d@e%f",
            ])
        #expect(PlainCommand.words("./run.sh") == ["./run.sh"])
    }

    @Test func doubleQuotedVariablesOfTheEnvironmentAreExpandedAsOneWord() {
        let environment = ["DIR=/tmp/a b/*", "EMPTY=", "N=1", "N=2"]
        #expect(
            PlainCommand.words("/bin/sh \"$DIR/task.md\"", environment: environment) == [
                "/bin/sh", "/tmp/a b/*/task.md",
            ])
        #expect(
            PlainCommand.words("run x\"${N}y\"z \"\" \"$EMPTY\" \"a  b\"", environment: environment) == [
                "run", "x2yz", "", "", "a  b",
            ])
    }

    @Test func anythingTheShellWouldInterpretNeedsTheShell() {
        let environment = ["HOME=/root", "PWD=/elsewhere"]
        for command in [
            "", "   ", "echo hi", "cd /tmp", "exit 3", "exec sh", ". ./env", "if true", "FOO=1 cmd",
            "cmd 'quoted'", "cmd $HOME", "cmd > out", "cmd < in", "a | b", "a; b", "a && b",
            "cmd *", "cmd ?", "cmd [a]", "cmd ~", "cmd # note", "cmd\targ", "cmd\narg", "cmd \\x", "cmd `x`",
            "cmd (x)", "cmd {x}", "cmd !", "cmd &", "café", "true", "\"cmd\" x", "cmd \"$UNSET\"",
            "cmd \"$PWD\"", "cmd \"$1\"", "cmd \"$@\"", "cmd \"$$\"", "cmd \"${HOME\"", "cmd \"${HOME:-x}\"",
            "cmd \"$HOME", "cmd \"$(pwd)\"", "cmd \"`pwd`\"", "cmd \"a\\b\"", "cmd \"a'b\"", "cmd \"*\"x*",
            "cmd \"$\"", "cmd \"é\"",
        ] {
            #expect(PlainCommand.words(command, environment: environment) == nil, "\(command)")
        }
    }
}
