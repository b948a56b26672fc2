import SwarmSystem
import Testing

@testable import SwarmRuntime

@Suite("Intake: which inbox names are left alone")
struct IntakeIgnoreTests {
    /// Names editors and careful writers leave behind: intake never claims them.
    static let ignored = [
        ".x.md", ".fix.md.tmp", ".gitkeep", "x.md~", "x.swp", ".x.md.swp", "x.swx", "x.tmp", "x.md.tmp",
        "x.md.error", "#x.md#", "4913", ".", "..",
    ]

    /// Names that are tasks (or, for junk, rejected with a reason): intake claims them.
    static let taken = [
        "x.md", "x.json", "fix-login.md", "Fix Login!.md", "task", "x.markdown", "4913.md", "x.md.bak",
        "x~.md", "#x.md", "x.md#", "x.swp.md", "tmp", "error", "x.errors",
    ]

    @Test("ignored", arguments: ignored)
    func ignoredName(_ name: String) {
        #expect(Intake.isIgnored(name))
    }

    @Test("claimed", arguments: taken)
    func takenName(_ name: String) {
        #expect(!Intake.isIgnored(name))
    }

    @Test("a free name in a folder: NAME, then NAME.1, NAME.2")
    func freeName() throws {
        try withTemporaryFolder { folder in
            #expect(Intake.freeName(in: folder, for: "a.md") == "a.md")
            try write(folder + "/a.md", "x")
            #expect(Intake.freeName(in: folder, for: "a.md") == "a.md.1")
            try write(folder + "/a.md.1", "x")
            #expect(Intake.freeName(in: folder, for: "a.md") == "a.md.2")
        }
    }

    @Test("a claim makes the claimed folder, keeps a name taken there, and finds a gone file gone")
    func claim() throws {
        try withTemporaryFolder { folder in
            let intake = Intake(workspace: Workspace(root: folder), git: Git(environment: []))
            let inbox = folder + "/inbox"
            try FileSystem.makeDirectory(inbox)
            try write(inbox + "/a.md", "first")
            let claimed = folder + "/swarm/claimed/_inbox"
            #expect(intake.claim("a.md", from: inbox, parent: nil) == claimed + "/a.md")
            try write(inbox + "/a.md", "second")
            #expect(intake.claim("a.md", from: inbox, parent: nil) == claimed + "/a.md.1")
            #expect(intake.claim("a.md", from: inbox, parent: nil) == nil)
            #expect(intake.claim("b.md", from: inbox, parent: "boss") == nil)
            #expect(try FileSystem.entries(of: claimed).map(\.name) == ["a.md", "a.md.1"])
        }
    }
}
