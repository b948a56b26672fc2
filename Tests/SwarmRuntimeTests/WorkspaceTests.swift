@preconcurrency import Glibc
import SwarmRuntime
import SwarmSystem
import Testing

/// Workspace.locate reads the current directory, which is process-wide: these tests run one at
/// a time and put the directory back before they return. Every other test in this bundle uses
/// absolute paths only.
@Suite("Workspace.locate: --root, then SWARM_ROOT, then the nearest ancestor", .serialized)
struct WorkspaceLocateTests {
    /// Runs `body` with the current directory set to `directory`, then restores it.
    func inDirectory<T>(_ directory: String, _ body: () throws -> T) throws -> T {
        let previous = FileSystem.currentDirectory()
        try #require(chdir(directory) == 0)
        defer { _ = chdir(previous) }
        return try body()
    }

    func error(_ body: () throws(SwarmError) -> Workspace) -> SwarmError? {
        do {
            let found = try body()
            Issue.record("expected an error, found \(found.root)")
            return nil
        } catch {
            return error
        }
    }

    @Test("an explicit --root that holds a workspace wins over SWARM_ROOT")
    func explicitRoot() throws {
        try withWorkspaceFolder { root in
            let found = try Workspace.locate(explicit: root, environment: ["SWARM_ROOT": "/nonexistent"])
            #expect(found.root == root)
            let slashed = try Workspace.locate(explicit: root + "/", environment: [:])
            #expect(slashed.root == root)
        }
    }

    @Test("an explicit --root without swarm/swarm.json is an error that says how to fix it")
    func explicitRootNotAWorkspace() throws {
        try withTemporaryFolder { folder in
            let failure = error { () throws(SwarmError) in
                try Workspace.locate(explicit: folder, environment: [:])
            }
            #expect(failure?.message.contains("--root names \(folder)") == true)
            #expect(failure?.message.contains("swarm init") == true)
        }
    }

    @Test("a relative --root is taken against the current directory")
    func relativeRoot() throws {
        try withWorkspaceFolder { root in
            let parent = String(root[..<root.lastIndex(of: "/")!])
            let name = String(root[root.index(after: root.lastIndex(of: "/")!)...])
            let found = try inDirectory(parent) { try Workspace.locate(explicit: name, environment: [:]) }
            #expect(found.root == root)
        }
    }

    @Test("SWARM_ROOT is used when there is no --root")
    func environmentRoot() throws {
        try withWorkspaceFolder { root in
            let found = try Workspace.locate(explicit: nil, environment: ["SWARM_ROOT": root])
            #expect(found.root == root)
        }
    }

    @Test("a SWARM_ROOT that is no workspace is an error naming SWARM_ROOT")
    func environmentRootNotAWorkspace() throws {
        try withTemporaryFolder { folder in
            let failure = error { () throws(SwarmError) in
                try Workspace.locate(explicit: nil, environment: ["SWARM_ROOT": folder])
            }
            #expect(failure?.message.contains("SWARM_ROOT names \(folder)") == true)
        }
    }

    @Test("without --root and SWARM_ROOT the nearest ancestor holding swarm/swarm.json is found")
    func ancestorSearch() throws {
        try withWorkspaceFolder { root in
            let deep = root + "/roles/a/b"
            try FileSystem.makeDirectory(deep)
            for start in [root, root + "/roles", deep, root + "/swarm"] {
                let found = try inDirectory(start) {
                    try Workspace.locate(explicit: nil, environment: ["SWARM_ROOT": ""])
                }
                #expect(found.root == root, "from \(start)")
            }
        }
    }

    @Test("a workspace nested in another is found before the outer one")
    func nestedWorkspace() throws {
        try withWorkspaceFolder(["inner/swarm/swarm.json": "{}\n"]) { root in
            try FileSystem.makeDirectory(root + "/inner/src")
            let found = try inDirectory(root + "/inner/src") {
                try Workspace.locate(explicit: nil, environment: [:])
            }
            #expect(found.root == root + "/inner")
        }
    }

    @Test("no workspace anywhere above: an error that says to run swarm init or pass --root")
    func noWorkspace() throws {
        try #require(!FileSystem.exists("/swarm/swarm.json") && !FileSystem.exists("/tmp/swarm/swarm.json"))
        try withTemporaryFolder { folder in
            try FileSystem.makeDirectory(folder + "/x/y")
            let failure = try inDirectory(folder + "/x/y") {
                error { () throws(SwarmError) in try Workspace.locate(explicit: nil, environment: [:]) }
            }
            #expect(failure?.message.contains("no workspace here") == true)
            #expect(failure?.message.contains("swarm init") == true)
            #expect(failure?.message.contains("--root") == true)
        }
    }

    @Test("the paths of the tree")
    func paths() {
        let workspace = Workspace(root: "/w")
        #expect(workspace.inbox == "/w/swarm/inbox")
        #expect(workspace.configPath == "/w/swarm/swarm.json")
        #expect(workspace.claimedDirectory(parent: nil) == "/w/swarm/claimed/_inbox")
        #expect(workspace.claimedDirectory(parent: "boss") == "/w/swarm/claimed/boss")
        #expect(workspace.agentFiles("a1").results == "/w/swarm/agents/a1/results.json")
        #expect(workspace.templatePath("shell") == "/w/templates/shell.md")
        #expect(workspace.rolePath("_shared-rules") == "/w/roles/_shared-rules.md")
        #expect(Workspace(root: "/").root == "/")
    }
}
