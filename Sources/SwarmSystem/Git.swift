/// Why a `git` command could not do what was asked, in words a person can act on.
public struct GitError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs `git` as a helper command (`CommandRunner`): with a deadline, without the `GIT_*`
/// variables of the daemon's environment (so a caller's `GIT_DIR` cannot point it elsewhere),
/// with hooks, signing, prompts and automatic gc turned off, and with the runtime's identity
/// for the commits it makes.
public struct Git: Sendable {
    /// The environment every `git` runs with.
    public let environment: [String]
    /// How long one `git` command may take.
    public var timeoutMilliseconds: Int64

    /// Settings every command runs with: no hooks or file-system monitor of the repository
    /// run, nothing asks for a password or a signature, and no command starts a gc in the
    /// background.
    public static let settings = [
        "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-c", "gc.auto=0",
        "-c", "maintenance.auto=false", "-c", "advice.detachedHead=false", "-c", "core.fsmonitor=false",
    ]

    /// A runner over `environment` (`NAME=value` entries); `GIT_*` entries are dropped.
    public init(environment: [String], timeoutMilliseconds: Int64 = 120_000) {
        var kept = environment.filter { !$0.hasPrefix("GIT_") && !$0.hasPrefix("LC_ALL=") }
        kept += ["GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1"]
        self.environment = kept
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Runs `git ARGUMENTS` in `directory`; `identity` (a name) sets author and committer.
    /// Throws only when git cannot be run or overran its deadline; any exit status returns.
    public func run(
        _ arguments: [String], in directory: String, identity: String? = nil, input: [UInt8] = []
    ) throws(GitError) -> CommandOutput {
        var environment = self.environment
        if let identity {
            let email = identity.replacing(" ", with: "-") + "@swarm"
            environment += [
                "GIT_AUTHOR_NAME=" + identity, "GIT_AUTHOR_EMAIL=" + email,
                "GIT_COMMITTER_NAME=" + identity, "GIT_COMMITTER_EMAIL=" + email,
            ]
        }
        let output: CommandOutput
        do {
            output = try CommandRunner.run(
                "git", Self.settings + arguments, environment: environment, input: input,
                workingDirectory: directory, timeoutMilliseconds: timeoutMilliseconds)
        } catch .noSuchFile {
            throw GitError("git is not on PATH; install git (2.38 or later) or add it to PATH")
        } catch {
            throw GitError("git \(arguments.first ?? "") cannot be run in \(directory): \(error)")
        }
        guard output.status != nil else {
            throw GitError(
                "git \(arguments.joined(separator: " ")) in \(directory) took longer than "
                    + "\(timeoutMilliseconds / 1000) s and was killed")
        }
        return output
    }

    /// Runs `git ARGUMENTS` and requires exit status 0; returns standard output without its
    /// trailing newline.
    @discardableResult
    public func check(
        _ arguments: [String], in directory: String, identity: String? = nil, input: [UInt8] = []
    ) throws(GitError) -> String {
        let output = try run(arguments, in: directory, identity: identity, input: input)
        guard output.succeeded else {
            throw GitError(
                "git \(arguments.prefix(3).joined(separator: " ")) failed in \(directory): \(output.complaint)"
            )
        }
        var text = output.text
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// The commit `revision` names in the repository at `directory`, or nil when it names none.
    public func commit(_ revision: String, in directory: String) throws(GitError) -> String? {
        let output = try run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"], in: directory)
        guard output.succeeded else { return nil }
        let text = output.text.split(separator: "\n").first.map(String.init) ?? ""
        return text.isEmpty ? nil : text
    }

    /// True when commit `ancestor` is `descendant` or one of its ancestors.
    public func isAncestor(_ ancestor: String, of descendant: String, in directory: String) throws(GitError)
        -> Bool
    {
        let output = try run(["merge-base", "--is-ancestor", ancestor, descendant], in: directory)
        switch output.status {
        case .exited(0)?: return true
        case .exited(1)?: return false
        default: throw GitError("git merge-base --is-ancestor failed in \(directory): \(output.complaint)")
        }
    }
}
