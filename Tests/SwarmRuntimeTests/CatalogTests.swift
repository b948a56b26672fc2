import SwarmProtocol
import SwarmRuntime
import SwarmSystem
import Testing

@Suite("Catalog: roles and templates, read when used")
struct CatalogTests {
    func failure<T>(_ body: () throws(SwarmError) -> T) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.message
        }
    }

    @Test("the scaffold's templates and roles load")
    func scaffold() throws {
        try withWorkspaceFolder { root in
            var catalog = Catalog(workspace: Workspace(root: root))
            for name in [
                "sim-worker", "sim-orchestrator", "claude-worker", "claude-orchestrator", "codex-worker",
                "shell",
            ] {
                let template = try catalog.template(name)
                #expect(template.name == name)
                #expect(!template.command.isEmpty)
            }
            #expect(try catalog.template("sim-orchestrator").kind == .orchestrator)
            #expect(try catalog.template("sim-worker").kind == .worker)
            for role in ["root", "meta", "worker", "scout"] { #expect(try !catalog.role(role).isEmpty) }
            #expect(try !catalog.sharedRules().isEmpty)
        }
    }

    @Test("a missing template is an error that lists the templates that exist")
    func missingTemplate() throws {
        try withWorkspaceFolder { root in
            var catalog = Catalog(workspace: Workspace(root: root))
            let message = try #require(failure { () throws(SwarmError) in try catalog.template("reviewer") })
            #expect(message.contains("template \"reviewer\" does not exist"))
            #expect(message.contains("templates/reviewer.md"))
            #expect(
                message.contains(
                    "claude-orchestrator, claude-worker, codex-worker, shell, sim-orchestrator, sim-worker"))
        }
    }

    @Test("a missing role is an error that lists the roles, without _shared-rules")
    func missingRole() throws {
        try withWorkspaceFolder { root in
            var catalog = Catalog(workspace: Workspace(root: root))
            let message = try #require(failure { () throws(SwarmError) in try catalog.role("reviewer") })
            #expect(message.contains("role \"reviewer\" does not exist (no roles/reviewer.md)"))
            #expect(message.contains("use one of: meta, root, scout, worker"))
            #expect(!message.contains("_shared-rules"))
        }
    }

    @Test(
        "names that are paths are refused before any file is touched",
        arguments: ["../x", "a/b", "", "Big", ".hidden"])
    func pathNames(_ name: String) throws {
        try withWorkspaceFolder { root in
            var catalog = Catalog(workspace: Workspace(root: root))
            let template = try #require(failure { () throws(SwarmError) in try catalog.template(name) })
            #expect(template.contains("is not a plain name") || template.contains("does not exist"))
            let role = try #require(failure { () throws(SwarmError) in try catalog.role(name) })
            #expect(role.contains("is not a plain name") || role.contains("does not exist"))
        }
    }

    @Test("a template that is a directory or a symlink is not used")
    func notRegular() throws {
        try withWorkspaceFolder { root in
            try FileSystem.makeDirectory(root + "/templates/folder.md")
            try FileSystem.symlink(target: root + "/templates/shell.md", at: root + "/templates/link.md")
            var catalog = Catalog(workspace: Workspace(root: root))
            #expect(failure { () throws(SwarmError) in try catalog.template("folder") } != nil)
            #expect(failure { () throws(SwarmError) in try catalog.template("link") } != nil)
        }
    }

    @Test("an edit takes effect at the next read; a broken edit is an error naming the file; a fix heals it")
    func editsAreSeen() throws {
        try withWorkspaceFolder { root in
            let path = root + "/templates/mine.md"
            try write(path, "---\nkind: worker\ncommand: echo one\n---\nBrief one.\n")
            var catalog = Catalog(workspace: Workspace(root: root))
            #expect(try catalog.template("mine").command == "echo one")
            #expect(try catalog.template("mine").command == "echo one")
            try write(path, "---\nkind: worker\ncommand: echo two, longer\n---\nBrief two.\n")
            #expect(try catalog.template("mine").command == "echo two, longer")
            try write(path, "---\nkind: banana\ncommand: echo three\n---\nBrief.\n")
            let message = try #require(failure { () throws(SwarmError) in try catalog.template("mine") })
            #expect(message.hasPrefix("templates/mine.md:"))
            #expect(message.contains("banana"))
            try write(path, "---\nkind: worker\ncommand: echo four\n---\nBrief four.\n")
            #expect(try catalog.template("mine").command == "echo four")
            try FileSystem.remove(path)
            #expect(
                failure { () throws(SwarmError) in try catalog.template("mine") }?.contains("does not exist")
                    == true)
        }
    }

    @Test("an in-place edit of the same size is seen too (the stamp holds the modification time)")
    func sameSizeEdit() throws {
        try withWorkspaceFolder { root in
            let path = root + "/roles/tester.md"
            try FileSystem.createExclusive(path, Array("version A\n".utf8))
            var catalog = Catalog(workspace: Workspace(root: root))
            #expect(try catalog.role("tester") == "version A\n")
            let before = try #require(FileSystem.status(path))
            // rewrite in place (same inode, same size) until the clock has moved on
            var after = before
            while after.modifiedNanos == before.modifiedNanos {
                try FileSystem.remove(path)
                try FileSystem.createExclusive(path, Array("version B\n".utf8))
                after = try #require(FileSystem.status(path))
            }
            #expect(try catalog.role("tester") == "version B\n")
        }
    }

    @Test("roles that are not UTF-8 are refused with the file named")
    func binaryRole() throws {
        try withWorkspaceFolder { root in
            try FileSystem.writeAtomically(root + "/roles/bad.md", [0x66, 0xFF, 0xFE, 0x0A])
            var catalog = Catalog(workspace: Workspace(root: root))
            let message = try #require(failure { () throws(SwarmError) in try catalog.role("bad") })
            #expect(message.hasPrefix("roles/bad.md:"))
        }
    }

    @Test("without roles/_shared-rules.md the shared rules are empty")
    func noSharedRules() throws {
        try withWorkspaceFolder { root in
            try FileSystem.remove(root + "/roles/_shared-rules.md")
            var catalog = Catalog(workspace: Workspace(root: root))
            #expect(try catalog.sharedRules() == "")
        }
    }

    @Test("Catalog.names lists Markdown files only, sorted")
    func names() throws {
        try withTemporaryFolder { folder in
            for name in ["b.md", "a.md", "notes.txt", ".hidden.md.tmp"] {
                try write(folder + "/" + name, "x")
            }
            try FileSystem.makeDirectory(folder + "/dir.md")
            #expect(Catalog.names(in: folder) == ["a", "b"])
            #expect(Catalog.names(in: folder + "/missing") == [])
        }
    }
}
