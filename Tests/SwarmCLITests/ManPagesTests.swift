import Testing

@testable import SwarmCLI

@Suite("ManPages: one page per command, from the command table")
struct ManPagesTests {
    @Test func everyCommandOfTheTableHasItsPageAndTheOverviewNamesThemAll() {
        let pages = ManPages.all
        let commands = CommandTable.all + CommandTable.internalCommands
        #expect(pages.map(\.file) == ["swarm.1"] + commands.map { "swarm-\($0.name).1" })
        let overview = pages[0].text
        for spec in commands {
            #expect(overview.contains("\\fBswarm\\-\(ManPages.escape(spec.name))\\fR(1)"))
        }
        let report = pages.first { $0.file == "swarm-report.1" }?.text ?? ""
        #expect(report.contains("swarm report [\\-\\-out FILE] [\\-\\-json]"))
    }

    @Test func roffIsEscaped() {
        #expect(ManPages.escape(#"a\b --x"#) == #"a\eb \-\-x"#)
        #expect(ManPages.escapeLine(".hidden 'x") == #"\&.hidden 'x"#)
        #expect(ManPages.escapeLine("'quoted") == #"\&'quoted"#)
    }
}
