import SwarmProtocol
import SwarmSystem
import Testing

/// `PlainCommand` against the real `/bin/sh`: every command it splits itself, the shell runs
/// with the same arguments.
@Suite struct PlainCommandShellTests {
    @Test func randomPlainCommandsGetTheArgumentsTheShellGives() throws {
        try withTemporaryFolder { folder in
            let printer = folder + "/argv"
            try write(printer, "#!/bin/sh\nfor a; do printf '%s|' \"$a\"; done\n")
            let environment = [
                "PATH=/usr/bin:/bin", "A=/tmp/a b", "B=*", "C=", "D=x  y", "E=$HOME", "A_1=two", "F=;|&",
            ]
            let pieces = [
                "x", "-v", "--k=v", "a.b", "\"$A\"", "\"${B}\"", "\"$C\"", "\"$D\"", "\"$E\"", "\"${A_1}x\"",
                "\"$A_1\"", "\"q r\"", "\"\"", "\"$F\"", "@%,:+",
            ]
            var generator = SystemRandomNumberGenerator()
            var compared = 0
            for _ in 0..<60 {
                let count = Int.random(in: 0...5, using: &generator)
                var command = "/bin/sh " + printer
                for _ in 0..<count {
                    let glued = (0..<Int.random(in: 1...2, using: &generator)).map { _ in
                        pieces.randomElement(using: &generator)!
                    }
                    command += String(repeating: " ", count: Int.random(in: 1...2, using: &generator))
                    command += glued.joined()
                }
                let words = try #require(PlainCommand.words(command, environment: environment), "\(command)")
                let shell = try CommandRunner.run("/bin/sh", ["-c", command], environment: environment)
                #expect(shell.succeeded)
                #expect(
                    words.dropFirst(2).map { $0 + "|" }.joined() == shell.text, "\(command)")
                compared += 1
            }
            #expect(compared == 60)
        }
    }
}
