/// Agent commands that need no shell to run them.
///
/// A command is run by `/bin/sh -c`. When it is a single simple command of plain words, the
/// shell would do nothing but split it on spaces, expand the double-quoted variables of its
/// arguments and execute the first word; the runtime then does that itself and saves starting
/// a shell for every run.
///
/// Plain means: ASCII letters, digits, `-_./,:+@%=` and spaces, and, in every word after the
/// first, double-quoted parts made of those bytes and of `$NAME` or `${NAME}` for a variable
/// set in the environment the command runs with. Nothing else: no single quotes, backslashes,
/// unquoted expansion, redirection, globbing, assignment, builtin or reserved word.
public enum PlainCommand {
    /// The words of `command` when `/bin/sh -c` would run it as one program with those
    /// arguments and nothing else, with `environment` ("KEY=VALUE" strings, the command's
    /// whole environment) as its variables; nil when the command needs the shell.
    public static func words(_ command: String, environment: [String] = []) -> [String]? {
        var scanner = Scanner(bytes: Array(command.utf8), environment: environment)
        guard let words = scanner.words(), let first = words.first, !first.contains("="),
            !shellWords.contains(first)
        else {
            return nil
        }
        return words
    }

    /// Splits a command into words the way the shell would, or fails on anything the shell
    /// would do more with.
    private struct Scanner {
        let bytes: [UInt8]
        let environment: [String]
        var index = 0

        /// Every word, or nil when some byte needs the shell; the first word is kept literal
        /// (no quotes) so that `words(_:environment:)` can judge it.
        mutating func words() -> [String]? {
            var words: [String] = []
            while true {
                while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
                guard index < bytes.count else { return words }
                guard let word = self.word(quotesAllowed: !words.isEmpty) else { return nil }
                words.append(word)
            }
        }

        /// One word, up to the next unquoted space or the end.
        private mutating func word(quotesAllowed: Bool) -> String? {
            var word: [UInt8] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") && quotesAllowed {
                    index += 1
                    guard let quoted = self.quoted() else { return nil }
                    word += quoted
                } else if isPlain(byte) {
                    word.append(byte)
                    index += 1
                } else {
                    return nil
                }
            }
            return String(decoding: word, as: UTF8.self)
        }

        /// The inside of a double-quoted part, its variables expanded; the closing quote is
        /// consumed.
        private mutating func quoted() -> [UInt8]? {
            var text: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return text }
                if byte == UInt8(ascii: "$") {
                    guard let value = variable() else { return nil }
                    text += value.utf8
                } else if isPlain(byte) {
                    text.append(byte)
                } else {
                    return nil
                }
            }
            return nil
        }

        /// The value of the variable named after a `$` (`NAME` or `{NAME}`); nil when the
        /// name is no plain variable's or the variable is not set.
        private mutating func variable() -> String? {
            let braced = index < bytes.count && bytes[index] == UInt8(ascii: "{")
            if braced { index += 1 }
            let start = index
            while index < bytes.count, isNameByte(bytes[index], first: index == start) { index += 1 }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            if braced {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "}") else { return nil }
                index += 1
            }
            guard !name.isEmpty, !shellVariables.contains(name) else { return nil }
            let prefix = name + "="
            return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
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

    /// Bytes of a variable's name: a letter or `_`, then letters, digits and `_`.
    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            return true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return !first
        default:
            return false
        }
    }

    /// Variables the shell sets or treats specially itself, whatever the environment says.
    static let shellVariables: Set<String> = [
        "_", "PWD", "OLDPWD", "PPID", "IFS", "LINENO", "OPTIND", "OPTARG", "PS1", "PS2", "PS4",
    ]

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
