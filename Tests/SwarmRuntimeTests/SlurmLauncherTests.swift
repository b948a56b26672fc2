import SwarmCore
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// The Slurm launcher's own state, driven by stand-in `sbatch` and `scontrol` scripts on PATH:
/// an outage defers starts with a doubling wait and one note (however many submissions were
/// under way when it began), and ends at the next submission that goes through.
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
        let lanes = SlurmLanes(background: try BackgroundWork(), log: Logger(quiet: true))
        return (SlurmLauncher(client: client, local: LocalLauncher(workspace: workspace), lanes: lanes), spec)
    }

    static func chmodExecutable(_ path: String) -> Bool {
        (try? CommandRunner.run("/bin/chmod", ["+x", path], environment: [])).map(\.succeeded) ?? false
    }

    /// A batch start as the daemon makes it, with the lane's work done on this thread.
    static func start(_ slurm: inout SlurmLauncher, _ spec: LaunchSpec, now: Millis) -> LaunchOutcome {
        switch slurm.admit(spec.id, now: now) {
        case .deferred(let until, let reason):
            return .deferred(until: until, reason: reason)
        case .submit(let probe):
            #expect(slurm.isHeld(spec.id, run: nil), "a submission under way counts as held")
            return slurm.submitted(
                spec.id, SlurmLanes.submission(spec, client: slurm.client, probe: probe), now: now)
        }
    }

    @Test func anOutageDefersStartsWithADoublingWaitAndOneNote() throws {
        try withTemporaryFolder { root in
            let bin = root + "/bin"
            var (slurm, spec) = try Self.launcher(in: root, bin: bin)
            try Self.commands(
                in: bin, sbatchOutput: "sbatch: error: Unable to contact slurm controller (connect failure)",
                sbatchStatus: 1, controllerUp: false)
            let first = Self.start(&slurm, spec, now: 1_000)
            #expect(
                first
                    == .deferred(
                        until: 6_000,
                        reason:
                            "sbatch refused a1: sbatch: error: Unable to contact slurm controller (connect failure)"
                    ))
            let notes = slurm.takeNotes()
            #expect(notes.count == 1)
            #expect(!slurm.isHeld("a1", run: nil), "an answered submission is no longer under way")
            if case .deferred(let until, _) = slurm.admit("a1", now: 2_000) {
                #expect(until == 6_000, "before the wait is over, nothing is asked of Slurm")
            } else {
                Issue.record("a start during the wait is deferred")
            }
            #expect(slurm.admit("a1", now: 6_000) == .submit(probe: true), "after the wait, ping first")
            #expect(
                slurm.submitted(
                    "a1", SlurmLanes.submission(spec, client: slurm.client, probe: true), now: 6_000)
                    == .deferred(until: 16_000, reason: "`scontrol ping` says the controller is down"),
                "scontrol ping says DOWN: the wait doubles")
            #expect(slurm.takeNotes().isEmpty, "one note per outage")
            try Self.commands(in: bin, sbatchOutput: "4711", sbatchStatus: 0, controllerUp: true)
            #expect(Self.start(&slurm, spec, now: 16_000) == .started(.job("4711")))
            #expect(slurm.takeNotes() == [.recovered])
            #expect(
                slurm.isHeld("a1", run: Run(launcher: .slurm, handle: .job("4711"))),
                "a new job counts as held")
            #expect(!slurm.isHeld("a1", run: Run(launcher: .local, handle: .process(1))))
        }
    }

    @Test("submissions under way when the controller stopped answering make one failure, not one each")
    func failuresInFlightCountOnce() throws {
        try withTemporaryFolder { root in
            var (slurm, _) = try Self.launcher(in: root, bin: root + "/bin")
            for id in ["a1", "a2", "a3"] { #expect(slurm.admit(id, now: 0) == .submit(probe: false)) }
            let down = SwarmError("sbatch for a1 got no answer within 30 s", transient: true)
            #expect(
                slurm.submitted("a1", .failure(down), now: 30_000)
                    == .deferred(until: 35_000, reason: down.message))
            #expect(
                slurm.submitted("a2", .failure(down), now: 30_010)
                    == .deferred(until: 35_000, reason: down.message))
            #expect(slurm.outage?.failures == 1)
            #expect(
                slurm.withdrawn("a3", now: 30_010)
                    == .deferred(
                        until: 35_000,
                        reason: "Slurm's controller does not answer; next try at 1970-01-01T00:00:35.000Z"))
            #expect(slurm.submitting.isEmpty && slurm.takeNotes().count == 1)
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
                Self.start(&slurm, spec, now: 0)
                    == .failed("sbatch refused a1: sbatch: error: invalid partition specified: nope"))
            #expect(slurm.takeNotes().isEmpty && slurm.outage == nil)
        }
    }
}
