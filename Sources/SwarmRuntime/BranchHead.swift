import SwarmProtocol
import SwarmSystem

/// Reads where a branch points straight from the repository's files (a loose ref, else
/// packed-refs), without running git: `swarm status` and state.json show every agent's head,
/// and git itself stays the one place that fact is kept.
enum BranchHead {
    /// The commit `branch` points at in the repository at `repo`, or nil.
    static func read(repo: String, branch: String) -> String? {
        guard let common = commonDirectory(of: repo) else { return nil }
        let ref = "refs/heads/" + branch
        if let loose = text(common + "/" + ref, limit: 256) {
            let line = firstLine(loose)
            return GitText.isObjectID(line) ? line : nil
        }
        guard let packed = text(common + "/packed-refs", limit: 64 << 20) else { return nil }
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
            let id = String(line.prefix { $0 != " " })
            if GitText.isObjectID(id) { return id }
        }
        return nil
    }

    /// The common git folder of the checkout at `repo`: its `.git` folder, or for a linked
    /// worktree the folder its `.git` file's `gitdir:` names, followed by `commondir`.
    private static func commonDirectory(of repo: String) -> String? {
        let dotGit = repo + "/.git"
        if FileSystem.statusFollowing(dotGit)?.kind == .directory { return dotGit }
        guard let file = text(dotGit, limit: 4096), file.hasPrefix("gitdir: ") else { return nil }
        var own = firstLine(String(file.dropFirst(8)))
        if !own.hasPrefix("/") { own = repo + "/" + own }
        guard let common = text(own + "/commondir", limit: 4096).map(firstLine) else { return own }
        return common.hasPrefix("/") ? common : own + "/" + common
    }

    private static func text(_ path: String, limit: Int) -> String? {
        (try? FileSystem.readFile(path, limit: limit)).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func firstLine(_ text: String) -> String {
        String(text.prefix { $0 != "\n" && $0 != "\r" })
    }
}
