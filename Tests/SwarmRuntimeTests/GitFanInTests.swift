import SwarmCore
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// A repository made for one test: `main` with README and shared.txt, committed by "t".
struct TestRepo {
    let path: String
    let git = Git(environment: ProcessEnvironment.snapshot().map { "\($0.key)=\($0.value)" })

    init(at path: String) throws {
        self.path = path
        try FileSystem.makeDirectory(path)
        try git.check(["init", "-q", "-b", "main"], in: path)
        try SwarmRuntimeTests.write(path + "/README", "base\n")
        try SwarmRuntimeTests.write(path + "/shared.txt", "one\ntwo\nthree\n")
        try commitAll("base")
    }

    func commitAll(_ message: String, in folder: String? = nil, as name: String = "t") throws {
        try git.check(["add", "-A"], in: folder ?? path)
        try git.check(["commit", "-q", "-m", message], in: folder ?? path, identity: name)
    }

    func rev(_ revision: String) throws -> String { try git.check(["rev-parse", revision], in: path) }

    func show(_ revision: String, _ file: String) throws -> String {
        try git.check(["show", revision + ":" + file], in: path)
    }
}

@Suite("Code fan-in: worktrees and the merge queue on real repositories", .timeLimit(.minutes(1)))
struct GitFanInTests {
    /// A workspace with a repository `app`, its worktrees and merge queue.
    func withFanIn(_ body: (TestRepo, Workspace, CodeFanIn) throws -> Void) throws {
        try withTemporaryFolder { root in
            let repo = try TestRepo(at: root + "/app")
            let workspace = Workspace(root: root)
            try FileSystem.makeDirectory(workspace.agentsDirectory)
            try body(repo, workspace, CodeFanIn(workspace: workspace, git: repo.git))
        }
    }

    /// An agent record bound to `binding`.
    func record(_ id: String, _ binding: GitBinding, attempts: Int = 1, failure: FailureKind? = nil)
        -> AgentRecord
    {
        var record = AgentRecord(
            id: id, parent: nil, depth: 1, kind: .worker, role: "worker", template: "shell",
            priority: .normal,
            slots: 0, policy: .standard, createdAt: 0)
        record.git = binding
        record.attempts = attempts
        record.lastFailureKind = failure
        return record
    }

    /// Gives agent `id` a worktree from `base` merging into `target`, writes `files` there.
    func work(
        _ id: String, _ fanIn: CodeFanIn, repo: TestRepo, base: String, target: String?,
        files: [String: String],
        verify: String? = nil
    ) throws -> GitBinding {
        let binding = GitBinding(repo: repo.path, base: base, target: target, verify: verify)
        let grant = try fanIn.prepare(record(id, binding), binding: binding, wake: [.start])
        for (name, text) in files { try write(grant.folder + "/" + name, text) }
        return binding
    }

    @Test("children's branches merge into the parent's branch one after another; the user's checkout stays")
    func cleanMerges() throws {
        try withFanIn { repo, workspace, fanIn in
            let main = try repo.rev("main")
            _ = try work("boss", fanIn, repo: repo, base: main, target: nil, files: [:])
            for n in 1...3 {
                let binding = try work(
                    "w\(n)", fanIn, repo: repo, base: "swarm/boss", target: "swarm/boss",
                    files: ["file\(n).txt": "change \(n)\n"])
                let status = try fanIn.land(record("w\(n)", binding), binding: binding, summary: "file \(n)")
                guard case .merged(let commit, "swarm/boss") = status else {
                    Issue.record("w\(n): \(status)")
                    return
                }
                #expect(try repo.rev("swarm/boss") == commit)
                #expect(
                    try repo.git.check(["log", "-1", "--format=%an %P", commit], in: repo.path).hasPrefix(
                        "swarm w\(n) "))
            }
            for n in 1...3 { #expect(try repo.show("swarm/boss", "file\(n).txt") == "change \(n)") }
            // the parent's own worktree was brought along: it shows the merges, nothing reverted
            #expect(read(workspace.agentDirectory("boss") + "/worktree/file2.txt") == "change 2\n")
            let bossStatus = try repo.git.check(
                ["status", "--porcelain"], in: workspace.agentDirectory("boss") + "/worktree")
            #expect(bossStatus.isEmpty, "\(bossStatus)")
            #expect(try repo.rev("main") == main)
            #expect(try repo.git.check(["status", "--porcelain"], in: repo.path).isEmpty)
            #expect(!FileSystem.exists(repo.path + "/file1.txt"))
        }
    }

    @Test(
        "a crash between moving the parent's branch and its worktree: the parent's next commit keeps the merge"
    )
    func crashBeforeTheParentsWorktreeFollows() throws {
        try withFanIn { repo, _, fanIn in
            let main = try repo.rev("main")
            let boss = try work("boss", fanIn, repo: repo, base: main, target: nil, files: [:])
            _ = try work(
                "w1", fanIn, repo: repo, base: "swarm/boss", target: "swarm/boss", files: ["a.txt": "a\n"])
            // what a kill -9 right after update-ref leaves: the branch moved, the worktree did not
            try fanIn.worktrees.commitLeftovers("w1", message: "w1", repo: repo.path)
            let bossFolder = fanIn.worktrees.path(of: "boss")
            fanIn.worktrees.willMove(bossFolder, from: main)
            try repo.git.check(
                ["update-ref", "refs/heads/swarm/boss", "refs/heads/swarm/w1", main], in: repo.path)
            try write(bossFolder + "/summary.txt", "done\n")
            let status = try fanIn.land(record("boss", boss), binding: boss, summary: "boss")
            guard case .committed(let head) = status else {
                Issue.record("\(status)")
                return
            }
            #expect(try repo.show(head, "a.txt") == "a")
            #expect(try repo.show(head, "summary.txt") == "done")
            #expect(!FileSystem.exists(Worktrees.syncMarker(of: bossFolder)))
        }
    }

    @Test("landing twice merges once: a branch already in its target is found there")
    func idempotent() throws {
        try withFanIn { repo, _, fanIn in
            let main = try repo.rev("main")
            _ = try work("boss", fanIn, repo: repo, base: main, target: nil, files: [:])
            let binding = try work(
                "w1", fanIn, repo: repo, base: "swarm/boss", target: "swarm/boss", files: ["a.txt": "a\n"])
            let first = try fanIn.land(record("w1", binding), binding: binding, summary: "a")
            let second = try fanIn.land(record("w1", binding), binding: binding, summary: "a")
            #expect(first == second)
            let merges = try repo.git.check(["rev-list", "--merges", "--count", "swarm/boss"], in: repo.path)
            #expect(merges == "1")
        }
    }

    @Test("the same lines changed by two siblings: the second conflicts, naming the paths and the sibling")
    func conflict() throws {
        try withFanIn { repo, workspace, fanIn in
            let main = try repo.rev("main")
            _ = try work("boss", fanIn, repo: repo, base: main, target: nil, files: [:])
            let first = try work(
                "w1", fanIn, repo: repo, base: "swarm/boss", target: "swarm/boss",
                files: ["shared.txt": "one\ntwo by w1\nthree\n"])
            let second = try work(
                "w2", fanIn, repo: repo, base: "swarm/boss", target: "swarm/boss",
                files: ["shared.txt": "one\ntwo by w2\nthree\n"])
            _ = try fanIn.land(record("w1", first), binding: first, summary: "w1")
            let before = try repo.rev("swarm/boss")
            let status = try fanIn.land(record("w2", second), binding: second, summary: "w2")
            #expect(status == .conflicted(target: "swarm/boss", paths: ["shared.txt"], siblings: ["w1"]))
            #expect(try repo.rev("swarm/boss") == before)
            // the retry starts again on top of the new target
            let again = try fanIn.prepare(
                record("w2", second, attempts: 2, failure: .conflict), binding: second, wake: [.start])
            #expect(read(again.folder + "/shared.txt") == "one\ntwo by w1\nthree\n")
            #expect(try repo.rev("swarm/w2") == before)
            try write(
                workspace.agentDirectory("w2") + "/worktree/shared.txt", "one\ntwo by w1 and w2\nthree\n")
            let retried = try fanIn.land(record("w2", second), binding: second, summary: "w2 again")
            guard case .merged = retried else {
                Issue.record("\(retried)")
                return
            }
            #expect(try repo.show("swarm/boss", "shared.txt") == "one\ntwo by w1 and w2\nthree")
        }
    }

    @Test("a failing verify: keeps the target where it was and reports the check's last lines")
    func verifyFails() throws {
        try withFanIn { repo, workspace, fanIn in
            let main = try repo.rev("main")
            _ = try work("boss", fanIn, repo: repo, base: main, target: nil, files: [:])
            let binding = try work(
                "w1", fanIn, repo: repo, base: "swarm/boss", target: "swarm/boss",
                files: ["bad.txt": "bad\n"],
                verify: "test ! -e bad.txt || { echo 'bad.txt must not exist'; exit 4; }")
            let before = try repo.rev("swarm/boss")
            let status = try fanIn.land(record("w1", binding), binding: binding, summary: "w1")
            guard case .verifyFailed(_, _, let exit, let log) = status else {
                Issue.record("\(status)")
                return
            }
            #expect(exit == "exit status 4")
            #expect(log == "bad.txt must not exist")
            #expect(try repo.rev("swarm/boss") == before)
            #expect(read(workspace.agentDirectory("w1") + "/verify.log") == "bad.txt must not exist\n")
            #expect(!FileSystem.exists(workspace.agentDirectory("w1") + "/verify"))
            let brief = CodeFanIn.brief(
                "the brief\n", lastFailure: status.outcome(branch: "swarm/w1").reason, kind: .verify)
            #expect(brief.contains("bad.txt must not exist"))
            #expect(CodeFanIn.brief(brief, lastFailure: nil, kind: nil) == "the brief\n")
        }
    }

    @Test("a target checked out in the user's own worktree is never moved: the result is kept")
    func keptWhenCheckedOutByTheUser() throws {
        try withFanIn { repo, _, fanIn in
            let main = try repo.rev("main")
            let binding = try work(
                "w1", fanIn, repo: repo, base: main, target: "main", files: ["a.txt": "a\n"])
            let status = try fanIn.land(record("w1", binding), binding: binding, summary: "a")
            guard case .kept(_, "main", let reason) = status else {
                Issue.record("\(status)")
                return
            }
            #expect(reason.contains(repo.path))
            #expect(try repo.rev("main") == main)
            #expect(try repo.show("swarm/w1", "a.txt") == "a")
        }
    }

    @Test("a worktree gets the files .worktreeinclude lists, its leftovers are committed as swarm <id>")
    func worktreeIncludeAndLeftovers() throws {
        try withFanIn { repo, workspace, fanIn in
            try write(
                repo.path + "/.worktreeinclude", "# local settings\n.env\n../outside\nmissing\nlink/secret\n")
            try write(workspace.root + "/elsewhere/secret", "not for agents\n")
            try FileSystem.symlink(target: workspace.root + "/elsewhere", at: repo.path + "/link")
            try write(repo.path + "/.env", "TOKEN=1\n")
            let binding = GitBinding(
                repo: repo.path, base: try repo.rev("main"), target: nil, setup: "echo ready > .setup-ran")
            let grant = try fanIn.prepare(record("w1", binding), binding: binding, wake: [.start])
            #expect(grant.folder == workspace.agentDirectory("w1") + "/worktree")
            #expect(read(grant.folder + "/.env") == "TOKEN=1\n")
            #expect(!FileSystem.exists(grant.folder + "/link"), "a path through a symbolic link was copied")
            #expect(read(grant.folder + "/.setup-ran") == "ready\n")
            #expect(grant.writable.contains(repo.path + "/.git/objects"))
            #expect(!grant.writable.contains(repo.path + "/.git"))
            try write(grant.folder + "/new.txt", "new\n")
            let status = try fanIn.land(record("w1", binding), binding: binding, summary: "adds new.txt")
            guard case .committed(let head) = status else {
                Issue.record("\(status)")
                return
            }
            #expect(
                try repo.git.check(["log", "-1", "--format=%an|%s", head], in: repo.path)
                    == "swarm w1|adds new.txt")
            #expect(try repo.show("swarm/w1", "new.txt") == "new")
            fanIn.worktrees.remove("w1", repo: repo.path)
            #expect(!FileSystem.exists(grant.folder))
            #expect(try repo.rev("swarm/w1") == head)
        }
    }

    @Test(
        "bad repositories are refused at intake with what to fix",
        arguments: [
            ("notrepo", "", "is not a git repository"),
            ("app", "no-such-branch", "names no branch or commit"),
            ("missing", "", "which is not a folder"), ("dirty", "", "uncommitted changes"),
            ("locked", "", "is locked"), ("taken", "", "the branch swarm/t already exists"),
        ])
    func badRepositories(_ repoName: String, _ base: String, _ expected: String) throws {
        try withFanIn { repo, workspace, _ in
            try FileSystem.makeDirectory(workspace.root + "/notrepo")
            _ = try TestRepo(at: workspace.root + "/dirty")
            try write(workspace.root + "/dirty/README", "changed\n")
            _ = try TestRepo(at: workspace.root + "/locked")
            try write(workspace.root + "/locked/.git/index.lock", "")
            let taken = try TestRepo(at: workspace.root + "/taken")
            try taken.git.check(["branch", "swarm/t"], in: taken.path)
            var text = "---\nrole: worker\ntemplate: shell\nrepo: \(repoName)\n"
            if !base.isEmpty { text += "base: \(base)\n" }
            let task = try TaskParser.parse(fileName: "t.md", bytes: Array((text + "---\nwork\n").utf8))
            let result = RepoBinding.resolve(
                task: task, template: Template(name: "shell", command: "true"), parent: nil,
                workspace: workspace,
                git: repo.git, id: "t")
            guard case .failure(let error) = result else {
                Issue.record("accepted: \(result)")
                return
            }
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("without git on PATH the task is refused, saying so")
    func gitMissing() throws {
        try withFanIn { _, workspace, _ in
            let task = try TaskParser.parse(
                fileName: "t.md",
                bytes: Array("---\nrole: worker\ntemplate: shell\nrepo: app\n---\nwork\n".utf8))
            let result = RepoBinding.resolve(
                task: task, template: Template(name: "shell", command: "true"), parent: nil,
                workspace: workspace,
                git: Git(environment: ["PATH=/nonexistent"]), id: "t")
            guard case .failure(let error) = result else {
                Issue.record("accepted: \(result)")
                return
            }
            #expect(error.message.contains("git is not on PATH"))
        }
    }
}

extension Outcome {
    /// The reason of a failure, nil for anything else.
    var reason: String? {
        if case .failed(_, let reason) = self { reason } else { nil }
    }
}
