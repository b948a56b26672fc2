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
}
