@preconcurrency import Glibc
import SwarmSystem
import Testing

// A controller that takes its time: `sbatch` is a wrapper that waits until the test lets it go
// (a file appears), then runs the real one. The daemon must go on meanwhile, and a submission
// under way must be neither lost, nor doubled, nor judged silent.
extension SlurmTests {
    @Test(
        "a stuck sbatch holds up no local agent; the stuck agent is held, not silent; a kill meanwhile cancels its job"
    )
    func aStuckSubmissionBlocksNothing() async throws {
        let cluster = "---\nkind: worker\ncommand: swarm sim\nlauncher: slurm\n---\n{{task}}\n"
        try await withSlurmWorkspace(
            config: ["launcher": "\"local\""], files: ["templates/cluster.md": cluster]
        ) { ws in
            let sbatch = try StuckSbatch(in: ws.root + "/slow-bin")
            defer { sbatch.end() }
            try await ws.startDaemon(["--heartbeat", "200ms"], environment: sbatch.environment)
            for id in ["c1", "c2"] {
                try ws.drop(
                    id + ".md",
                    TestWorkspace.task([
                        ("id", id), ("role", "worker"), ("template", "cluster"), ("sim.steps", "2"),
                    ]))
            }
            #expect(await eventually(timeout: 30) { sbatch.calls == 2 }, "\(ws.diagnostics())")
            try ws.drop("local.md", TestWorkspace.simTask("local", [("sim.steps", "2")]))
            #expect(try await ws.waitForState("local", ["done"], timeout: 30), "\(ws.diagnostics())")
            #expect(try await ws.swarm("kill", "c2").status == 0)
            // killAfter is 3 beats of 200 ms: a submission counted as silence would be killed well
            // within this
            var silent: [AlertLine] = []
            let deadline = Clock.monotonicNanoseconds() + 1_400_000_000
            while silent.isEmpty && Clock.monotonicNanoseconds() < deadline {
                silent = try await ws.alerts().filter { $0.kind == "investigate" || $0.kind == "killed" }
                await Run.pause(milliseconds: 50)
            }
            #expect(silent.isEmpty, "\(silent.map(\.message))")
            let waiting = try #require(try await ws.agent("c1"))
            #expect(waiting.state == "running" && waiting.job == nil, "\(waiting)")
            #expect(
                try await ws.agent("c2")?.state == "running", "c2 ends once its job is known and cancelled")
            sbatch.release()
            #expect(try await ws.waitForState("c1", ["done"], timeout: 60), "\(ws.diagnostics())")
            #expect(try await ws.waitForState("c2", ["killed"], timeout: 60), "\(ws.diagnostics())")
            let jobs = SlurmRig.jobs(of: ws)
            #expect(jobs.map(\.name).sorted() == ["c1", "c2"], "\(jobs)")
            #expect(
                await eventually(timeout: 30) {
                    SlurmRig.jobs(of: ws).first { $0.name == "c2" }?.state == "CANCELLED"
                })
            #expect(try await ws.agent("c1")?.attempts == 1)
        }
    }

    @Test(
        "kill -9 while sbatch is under way: the next daemon waits for it, adopts its job, and the task runs once"
    )
    func aCrashDuringASubmission() async throws {
        try await withSlurmWorkspace { ws in
            let sbatch = try StuckSbatch(in: ws.root + "/slow-bin")
            defer { sbatch.end() }
            let first = try await ws.startDaemon(["--heartbeat", "1s"], environment: sbatch.environment)
            try ws.drop(
                "r1.md", TestWorkspace.simTask("r1", [("sim.steps", "4"), ("sim.interval", "100ms")]))
            #expect(await eventually(timeout: 30) { sbatch.calls == 1 }, "\(ws.diagnostics())")
            await first.crash()
            let second = try await ws.startDaemon(
                ["--heartbeat", "1s"], waitUntilReady: false, environment: sbatch.environment)
            // the next daemon logs this just before it recovers, and the wrapper looks for the
            // release only every 200 ms: the sbatch still runs when the daemon looks for it
            #expect(await eventually(timeout: 30) { second.logText.contains("agents run as Slurm jobs") })
            sbatch.release()
            #expect(try await ws.waitForState("r1", ["done"], timeout: 60), "\(ws.diagnostics())")
            #expect(second.logText.contains("waited for 1 sbatch command(s)"), "\(second.logText)")
            #expect(second.logText.contains("still a Slurm job"), "\(second.logText)")
            let agent = try #require(try await ws.agent("r1"))
            #expect(agent.attempts == 1 && agent.runs == 1, "\(agent)")
            #expect(SlurmRig.jobs(of: ws).count == 1, "\(SlurmRig.jobs(of: ws))")
            #expect(sbatch.calls == 1, "the task was submitted once")
        }
    }
}

/// An `sbatch` on PATH that notes each call, waits until `release`, then runs the real one.
struct StuckSbatch {
    let folder: String

    init(in folder: String) throws {
        self.folder = folder
        let real = try #require(
            Processes.locateProgram("sbatch", environment: SwarmBinary.environment, workingDirectory: nil))
        try FileSystem.makeDirectory(folder)
        let script =
            "#!/bin/sh\necho $$ >> \(folder)/calls\n"
            + "while [ ! -f \(folder)/release ]; do sleep 0.2; done\nexec \(real) \"$@\"\n"
        try FileSystem.writeAtomically(folder + "/sbatch", Array(script.utf8))
        try #require(chmod(folder + "/sbatch", 0o755) == 0)
    }

    /// The tests' environment with this folder first on PATH.
    var environment: [String] {
        SwarmBinary.environment.map { $0.hasPrefix("PATH=") ? "PATH=" + folder + ":" + $0.dropFirst(5) : $0 }
    }

    /// How many times it was called.
    var calls: Int { Run.text(folder + "/calls").split(separator: "\n").count }

    /// Lets every call, and each later one, go on to the real sbatch.
    func release() {
        try? FileSystem.writeAtomically(folder + "/release", [])
    }

    /// Kills the calls still waiting (a test that failed before it released them).
    func end() {
        for line in Run.text(folder + "/calls").split(separator: "\n") {
            if let pid = Int32(line), !FileSystem.exists(folder + "/release") {
                _ = Processes.signal(pid, SIGKILL)
            }
        }
    }
}
