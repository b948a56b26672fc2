/// Agent commands that need no shell to run them.
///
/// A command is run by `/bin/sh -c`. When it is a single simple command of plain words (no
/// quoting, expansion, redirection, globbing, assignment, builtin or reserved word), the
/// shell would do nothing but split it on spaces and execute the first word; the runtime
/// then does that itself and saves starting a shell for every run.
public enum PlainCommand {
    /// The words of `command` when `/bin/sh -c` would run it as one program with those
    /// arguments and nothing else; nil when the command needs the shell.
    public static func words(_ command: String) -> [String]? {
        guard !command.isEmpty, command.utf8.allSatisfy(isPlain) else { return nil }
        let words = command.split(separator: " ").map(String.init)
        guard let first = words.first, !first.contains("="), !shellWords.contains(first) else {
            return nil
        }
        return words
    }

    /// Bytes that mean nothing to the shell inside a word (ASCII letters and digits,
    /// `-_./,:+@%=`), and the space that separates words.
    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ","),
            UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "="),
            UInt8(ascii: " "):
            return true
        default:
            return false
        }
    }

    /// The reserved words and builtins of the POSIX shell and of dash (`/bin/sh` on Debian):
    /// a command starting with one of these means something else than running a program.
    static let shellWords: Set<String> = [
        "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in",
        "function", "select", "time", ".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command",
        "continue", "echo", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash",
        "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift", "test",
        "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait",
    ]
}
