import SwarmCore
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// The Slurm launcher's own state, driven by stand-in `sbatch` and `scontrol` scripts on PATH:
/// an outage defers starts with a doubling wait and one note, and ends at the next submission
/// that goes through.
@Suite("The Slurm launcher: outages, held jobs", .serialized)
struct SlurmLauncherTests {
    /// Writes `sbatch` and `scontrol` into `bin`: sbatch prints `sbatchOutput` and exits
    /// `sbatchStatus`; `scontrol ping` says UP or DOWN.
    static func commands(in bin: String, sbatchOutput: String, sbatchStatus: Int, controllerUp: Bool) throws {
        try write(
            bin + "/sbatch",
            "#!/bin/sh\ncat >/dev/null\necho '\(sbatchOutput)' >&\(sbatchStatus == 0 ? 1 : 2)\nexit \(sbatchStatus)\n"
        )
        try write(
            bin + "/scontrol",
            "#!/bin/sh\necho 'Slurmctld(primary) at ctl is \(controllerUp ? "UP" : "DOWN")'\n")
        for name in ["sbatch", "scontrol"] { _ = chmodExecutable(bin + "/" + name) }
    }

    /// A Slurm launcher whose commands are looked up in `bin` first, and the spec of agent a1.
    static func launcher(in root: String, bin: String) throws -> (SlurmLauncher, LaunchSpec) {
        let environment = ["PATH=\(bin):/usr/bin:/bin"]
        let workspace = Workspace(root: root)
        let files = workspace.agentFiles("a1")
        try FileSystem.makeDirectory(files.directory)
        let spec = LaunchSpec(
            id: "a1", command: "true", workingDirectory: files.directory, environment: environment,
            files: files)
        let client = SlurmClient(
            workspace: workspace, swarmExecutable: "/bin/true", arguments: [], environment: environment)
        return (SlurmLauncher(client: client, local: LocalLauncher(workspace: workspace)), spec)
    }

    static func chmodExecutable(_ path: String) -> Bool {
        (try? CommandRunner.run("/bin/chmod", ["+x", path], environment: [])).map(\.succeeded) ?? false
    }

    @Test func anOutageDefersStartsWithADoublingWaitAndOneNote() throws {
        try withTemporaryFolder { root in
            let bin = root + "/bin"
            var (slurm, spec) = try Self.launcher(in: root, bin: bin)
            try Self.commands(
                in: bin, sbatchOutput: "sbatch: error: Unable to contact slurm controller (connect failure)",
                sbatchStatus: 1, controllerUp: false)
            let first = slurm.start(spec, as: .slurm, now: 1_000)
            #expect(
                first
                    == .deferred(
                        until: 6_000,
                        reason:
                            "sbatch refused a1: sbatch: error: Unable to contact slurm controller (connect failure)"
                    ))
            let notes = slurm.takeNotes()
            #expect(notes.count == 1)
            if case .deferred(let until, _) = slurm.start(spec, as: .slurm, now: 2_000) {
                #expect(until == 6_000, "before the wait is over, nothing is asked of Slurm")
            } else {
                Issue.record("a start during the wait is deferred")
            }
            if case .deferred(let until, _) = slurm.start(spec, as: .slurm, now: 6_000) {
                #expect(until == 16_000, "scontrol ping says DOWN: the wait doubles")
            } else {
                Issue.record("a start while the controller is down is deferred")
            }
            #expect(slurm.takeNotes().isEmpty, "one note per outage")
            try Self.commands(in: bin, sbatchOutput: "4711", sbatchStatus: 0, controllerUp: true)
            #expect(slurm.start(spec, as: .slurm, now: 16_000) == .started(.job("4711")))
            #expect(slurm.takeNotes() == [.recovered])
            #expect(
                slurm.isHeld("a1", run: Run(launcher: .slurm, handle: .job("4711"))),
                "a new job counts as held")
            #expect(!slurm.isHeld("a1", run: Run(launcher: .local, handle: .process(1))))
        }
    }

    @Test func aRefusalThatIsNoOutageFailsTheStart() throws {
        try withTemporaryFolder { root in
            let bin = root + "/bin"
            var (slurm, spec) = try Self.launcher(in: root, bin: bin)
            try Self.commands(
                in: bin, sbatchOutput: "sbatch: error: invalid partition specified: nope", sbatchStatus: 1,
                controllerUp: true)
            #expect(
                slurm.start(spec, as: .slurm, now: 0)
                    == .failed("sbatch refused a1: sbatch: error: invalid partition specified: nope"))
            #expect(slurm.takeNotes().isEmpty && slurm.outage == nil)
        }
    }
}
