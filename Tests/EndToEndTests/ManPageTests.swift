@preconcurrency import Glibc
import SwarmSystem
import Testing

// `swarm man`: a page for every command `swarm help` lists, each rendered by man(1) with its
// warnings on (skipped with a message where man is not installed).

@Suite(.timeLimit(.minutes(1)))
struct ManPageTests {
    @Test func everyCommandHasAPageThatManRendersWithoutWarnings() async throws {
        let folder = "/tmp/swarm-man-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileSystem.removeTree(folder) }
        let written = try await Run.command(SwarmBinary.path, ["man", "--out", folder])
        try #require(written.status == 0, "swarm man: \(written)")
        let help = try await Run.command(SwarmBinary.path, ["help"])
        let commands = help.stdout.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), let word = line.split(separator: " ").first else { return nil }
            return String(word)
        }
        #expect(commands.contains("report") && commands.contains("man") && commands.count > 20, "\(commands)")
        let pages = Set(((try? FileSystem.entries(of: folder)) ?? []).map(\.name))
        for command in commands {
            #expect(pages.contains("swarm-\(command).1"), "no manual page for swarm \(command)")
        }
        #expect(pages.contains("swarm.1"))
        #expect(written.stdout.split(separator: "\n").count == pages.count, "it prints each page it writes")

        guard let man = ["/usr/bin/man", "/bin/man"].first(where: FileSystem.exists) else {
            // CI sets SWARM_REQUIRE_REPORT_TOOLS=1 after scripts/install-report-tools: missing fails there
            #expect(ProcessEnvironment.snapshot()["SWARM_REQUIRE_REPORT_TOOLS"] != "1", "man is missing")
            print(
                "ManPageTests: man is not installed, so the pages were not rendered (scripts/install-report-tools installs man-db)"
            )
            return
        }
        let environment = SwarmBinary.environment + ["MANWIDTH=80", "MANPAGER=cat", "PAGER=cat"]
        for page in pages.sorted() {
            let shown = try await Run.command(
                man, ["--warnings", "-l", folder + "/" + page], environment: environment)
            #expect(shown.status == 0 && shown.stderr.isEmpty, "man -l \(page): \(shown)")
            #expect(
                shown.stdout.contains("SYNOPSIS") && shown.stdout.contains("EXIT STATUS"),
                "\(page): \(shown.stdout)")
        }
        let overview = try await Run.command(
            man, ["-l", folder + "/swarm-report.1"], environment: environment)
        #expect(overview.stdout.contains("swarm report [--out FILE] [--json]"), "\(overview.stdout)")
    }
}
