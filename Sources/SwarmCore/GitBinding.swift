import SwarmProtocol

/// The repository an agent works on (task or template keys `repo:` and `base:`): the runtime
/// gives it a worktree of its own on branch `swarm/<id>`, and merges that branch into
/// `target` when it finishes done. Fixed at intake; the branch's head lives in git alone.
public struct GitBinding: Sendable, Equatable {
    /// The repository's top-level folder, absolute.
    public var repo: String
    /// What the agent's branch starts from: a commit for a task from the inbox, the parent's
    /// branch for a child of an orchestrator on the same repository.
    public var base: String
    /// The branch its result merges into (the parent's), or nil: its own branch is the result.
    public var target: String?
    /// The command run once in a new worktree before the agent's first run (`setup:`).
    public var setup: String?
    /// The command the merged tree must pass before the target moves (`verify:`).
    public var verify: String?

    public init(repo: String, base: String, target: String?, setup: String? = nil, verify: String? = nil) {
        self.repo = repo
        self.base = base
        self.target = target
        self.setup = setup
        self.verify = verify
    }

    /// The branch of agent `id`.
    public static func branch(of id: String) -> String { "swarm/" + id }

    /// The binding as meta.json's `git` object.
    public var json: JSONValue {
        var o = JSONObject()
        o["repo"] = .string(repo)
        o["base"] = .string(base)
        if let target { o["target"] = .string(target) }
        if let setup { o["setup"] = .string(setup) }
        if let verify { o["verify"] = .string(verify) }
        return .object(o)
    }

    /// Reads meta.json's `git` object; nil when it is not one.
    public init?(json value: JSONValue) {
        guard let repo = value["repo"]?.stringValue, let base = value["base"]?.stringValue else { return nil }
        self.init(
            repo: repo, base: base, target: value["target"]?.stringValue, setup: value["setup"]?.stringValue,
            verify: value["verify"]?.stringValue)
    }
}
