@preconcurrency import Glibc
import SwarmSystem
import Testing

// Agents as Slurm jobs on a real single-node cluster: scripts/slurm-up starts munged,
// slurmctld and slurmd on this machine and prints the SLURM_CONF to export. Without a
// reachable cluster these tests are skipped, unless SWARM_REQUIRE_SLURM=1 (CI), where they
// fail instead.

@Suite(
    "Agents as Slurm jobs on a single-node cluster", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: SlurmRig.shouldRun, "needs a Slurm cluster: eval \"$(scripts/slurm-up)\" first"))
struct SlurmTests {
    @Test("a cluster is reachable when CI requires one")
    func clusterIsUp() throws {
        try #require(SlurmRig.available, "SWARM_REQUIRE_SLURM=1 but sinfo failed: \(SlurmRig.why)")
    }

    @Test("batch jobs: each agent is a job named after it, its output in its folder, its result read")
    func batchJobsRunToTheEnd() async throws {
        try await withSlurmWorkspace { ws in
            for i in 1...4 { try ws.drop("b\(i).md", TestWorkspace.simTask("b\(i)", [("sim.steps", "3")])) }
            let daemon = try await ws.startDaemon()
            #expect(try await ws.waitForStates(["b1", "b2", "b3", "b4"], ["done"], timeout: 60))
            let jobs = SlurmRig.jobs(of: ws)
            #expect(Set(jobs.map(\.name)) == ["b1", "b2", "b3", "b4"], "\(jobs)")
            #expect(jobs.allSatisfy { $0.state == "COMPLETED" }, "\(jobs)")
            #expect(ws.text("swarm/agents/b1/exit-status") == "0\n")
            #expect(ws.text("swarm/agents/b1/results.json")?.contains("\"status\"") == true)
            #expect(daemon.logText.contains("polled every"))
        }
    }

    @Test("swarm kill cancels the job and every process it started on the node, a detached one too")
    func killEndsTheWholeTree() async throws {
        let script = "setsid sh -c 'sleep 300' &\nsleep 300\n"
        try await withSlurmWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            try ws.drop("tree.md", TestWorkspace.task([("id", "tree"), ("role", "worker"), ("template", "shell")], script))
            #expect(try await eventually(timeout: 30) { ws.agentProcesses("tree").count >= 3 }, "\(ws.diagnostics())")
            #expect(try await eventually { try await ws.agent("tree")?.job != nil })
            let job = try #require(try await ws.agent("tree")?.job, "status names the job while it runs")
            #expect(try await ws.swarm("kill", "tree").status == 0)
            #expect(try await ws.waitForState("tree", ["killed"], timeout: 30))
            #expect(await eventually(timeout: 20) { ws.agentProcesses("tree").isEmpty }, "\(ws.agentProcesses("tree"))")
            #expect(await eventually(timeout: 20) { SlurmRig.state(of: job) != "RUNNING" })
        }
    }

    @Test("a job held in Slurm's queue is not silent: 7 beats of 200 ms pass without an alert; released, it ends done")
    func aPendingJobIsNotSilent() async throws {
        let config = ["slurm": #"{"arguments": ["--hold"]}"#]
        try await withSlurmWorkspace(config: config) { ws in
            try await ws.startDaemon(["--heartbeat", "200ms"])
            try ws.drop("late.md", TestWorkspace.simTask("late", [("sim.steps", "2")]))
            #expect(try await eventually(timeout: 30) { try await ws.agent("late")?.job != nil })
            let job = try #require(try await ws.agent("late")?.job)
            #expect(SlurmRig.state(of: job) == "PENDING")
            #expect(try await eventually { try await ws.agent("late")?.job_state == "PENDING (JobHeldUser)" })
            let table = try await ws.swarm("status").stdout
            #expect(table.contains("Slurm: PENDING (JobHeldUser)"), "\(table)")
            let frame = try await ws.swarm("top").stdout
            #expect(frame.contains("Slurm: PENDING (JobHeldUser)"), "\(frame)")
            // killAfter is 3 beats: a held job counted as silent would be killed well within this
            var silent: [AlertLine] = []
            let deadline = Clock.monotonicNanoseconds() + 1_400_000_000
            while silent.isEmpty && Clock.monotonicNanoseconds() < deadline {
                silent = try await ws.alerts().filter { $0.kind == "investigate" || $0.kind == "killed" }
                await Run.pause(milliseconds: 50)
            }
            #expect(silent.isEmpty, "\(silent.map(\.message))")
            _ = try CommandRunner.run("scontrol", ["release", job], environment: SwarmBinary.environment)
            #expect(try await ws.waitForState("late", ["done"], timeout: 60))
            #expect(try await ws.agent("late")?.attempts == 1)
        }
    }

    @Test("a job cancelled outside swarm fails with Slurm's reason")
    func anOutsideCancelIsExplained() async throws {
        let template = "---\nkind: worker\ncommand: sleep 300\non.exit: fail\n---\n{{task}}\n"
        try await withSlurmWorkspace(files: ["templates/sleeper.md": template]) { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            try ws.drop("zz.md", TestWorkspace.task([("id", "zz"), ("role", "worker"), ("template", "sleeper")]))
            #expect(try await eventually(timeout: 30) { ws.agentProcesses("zz").count >= 1 })
            // the job can be running before sbatch's answer has reached the daemon and its
            // record names the job
            #expect(try await eventually { try await ws.agent("zz")?.job != nil })
            let job = try #require(try await ws.agent("zz")?.job)
            _ = try CommandRunner.run("scancel", [job], environment: SwarmBinary.environment)
            #expect(try await ws.waitForState("zz", ["failed"], timeout: 30))
            let reason = try await ws.agent("zz")?.reason ?? ""
            #expect(reason.contains("Slurm job \(job) was cancelled"), "\(reason)")
        }
    }

    @Test("kill -9 of the daemon: the next one adopts the running jobs and each task runs once")
    func restartAdoptsJobs() async throws {
        try await withSlurmWorkspace { ws in
            let first = try await ws.startDaemon(["--heartbeat", "1s"])
            let ids = (1...5).map { "r\($0)" }
            for id in ids {
                try ws.drop(id + ".md", TestWorkspace.simTask(id, [("sim.steps", "15"), ("sim.interval", "200ms")]))
            }
            #expect(try await ws.waitForStates(ids, ["running"], timeout: 30))
            #expect(try await eventually(timeout: 30) { try await ws.agents().allSatisfy { $0.job != nil } })
            await first.crash()
            let second = try await ws.startDaemon(["--heartbeat", "1s"])
            #expect(try await ws.waitForStates(ids, ["done"], timeout: 60))
            for agent in try await ws.agents() {
                #expect(agent.attempts == 1 && agent.runs == 1, "\(agent.id) ran \(agent.runs ?? 0) times")
                let lines = (ws.text("swarm/agents/\(agent.id)/progress.md") ?? "").split(separator: "\n")
                #expect(lines.count == 15, "\(agent.id) wrote \(lines.count) progress lines")
            }
            #expect(second.logText.contains("still a Slurm job"), "\(second.logText)")
            #expect(SlurmRig.jobs(of: ws).count == 5)
        }
    }

    @Test("srun steps: launcher slurm-srun runs the agent through srun; swarm kill ends its tree")
    func srunSteps() async throws {
        let template = "---\nkind: worker\ncommand: /bin/sh task.md\nlauncher: slurm-srun\n---\n{{task}}\n"
        let script = "echo '{\"status\": \"ok\"}' > results.json\n"
        try await withSlurmWorkspace(
            config: ["launcher": "\"local\""], files: ["templates/stepper.md": template]
        ) { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            try ws.drop("quick.md", TestWorkspace.task([("id", "quick"), ("role", "worker"), ("template", "stepper")], script))
            try ws.drop(
                "slow.md",
                TestWorkspace.task([("id", "slow"), ("role", "worker"), ("template", "stepper")], "sleep 300\n"))
            #expect(try await ws.waitForState("quick", ["done"], timeout: 30))
            #expect(ws.exists("swarm/agents/quick/slurm-job"))
            #expect(try await eventually(timeout: 30) { ws.exists("swarm/agents/slow/slurm-job") })
            #expect(try await ws.swarm("kill", "slow").status == 0)
            #expect(try await ws.waitForState("slow", ["killed"], timeout: 30))
            #expect(await eventually(timeout: 20) { ws.agentProcesses("slow").isEmpty })
        }
    }

    @Test(
        "a controller that does not answer: a worker waits in the queue without spending attempts, and runs once it is back",
        arguments: ["slurm", "slurm-srun"])
    func controllerOutage(launcher: String) async throws {
        let template = "---\nkind: worker\ncommand: swarm sim\nlauncher: \(launcher)\n---\n{{task}}\n"
        try await withSlurmWorkspace(files: ["templates/patient.md": template]) { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            try SlurmRig.stopController()
            defer { try? SlurmRig.startController() }
            try ws.drop(
                "patient.md",
                TestWorkspace.task([("id", "patient"), ("role", "worker"), ("template", "patient"), ("sim.steps", "2")]))
            #expect(try await ws.waitForAlert("slurm-unavailable", timeout: 60), "\(ws.diagnostics())")
            let waiting = try #require(try await ws.agent("patient"))
            #expect(waiting.state == "queued" && waiting.attempts == 0, "\(waiting)")
            #expect(waiting.reason?.contains("ontroller") == true, "\(waiting.reason ?? "")")
            try SlurmRig.startController()
            #expect(try await ws.waitForState("patient", ["done"], timeout: 60), "\(ws.diagnostics())")
            #expect(try await ws.agent("patient")?.attempts == 1)
            #expect(try await ws.waitForAlert("slurm-recovered", timeout: 10))
        }
    }

    @Test("a job sbatch refuses fails the attempt with sbatch's words; the daemon goes on")
    func aRefusedSubmissionIsExplained() async throws {
        let config = ["slurm": #"{"arguments": ["--partition=no-such-partition"]}"#]
        try await withSlurmWorkspace(config: config) { ws in
            try ws.drop("nope.md", TestWorkspace.simTask("nope"))
            let run = try await ws.runUntilIdle(timeout: 60)
            #expect(run.status == 0, "\(run)")
            let agent = try #require(try await ws.agent("nope"))
            #expect(agent.state == "dead-letter" || agent.state == "failed", "\(agent.state)")
            #expect(agent.reason?.contains("sbatch refused nope") == true, "\(agent.reason ?? "")")
            #expect(agent.reason?.lowercased().contains("partition") == true, "\(agent.reason ?? "")")
        }
    }
}

/// A workspace whose agents run as Slurm batch jobs. At the end its daemons are killed first,
/// then its jobs still alive are cancelled (a daemon still running would submit retries).
func withSlurmWorkspace<T>(
    config: [String: String] = [:], files: [String: String] = [:], _ body: (TestWorkspace) async throws -> T
) async throws -> T {
    try SlurmRig.require()
    var settings = ["launcher": "\"slurm\""]
    settings.merge(config) { $1 }
    let workspace = try await TestWorkspace.make(config: settings, files: files)
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body(workspace))
    } catch {
        Issue.record("\(workspace.diagnostics())")
        outcome = .failure(error)
    }
    await workspace.crashDaemons()
    SlurmRig.cancelJobs(of: workspace)
    workspace.cleanup()
    return try outcome.get()
}

/// The cluster of scripts/slurm-up, through its client commands.
enum SlurmRig {
    /// One job as `scontrol --oneliner show job` describes it.
    struct Job: CustomStringConvertible {
        var id: String
        var name: String
        var state: String
        var description: String { "\(name)=\(id):\(state)" }
    }

    /// CI sets SWARM_REQUIRE_SLURM=1 after scripts/slurm-up: a missing cluster fails there.
    static var required: Bool { ProcessEnvironment.snapshot()["SWARM_REQUIRE_SLURM"] == "1" }
    static var shouldRun: Bool { required || available }

    static let probe: (ok: Bool, why: String) = {
        guard ProcessEnvironment.snapshot()["SLURM_CONF"] != nil else { return (false, "SLURM_CONF is not set") }
        do {
            let output = try CommandRunner.run(
                "sinfo", ["--noheader", "--format=%t"], environment: SwarmBinary.environment,
                timeoutMilliseconds: 10_000)
            let states = output.text.split(separator: "\n").map(String.init)
            if output.succeeded, states.contains(where: { ["idle", "mix", "alloc"].contains($0) }) {
                return (true, "")
            }
            return (false, "sinfo: \(output.complaint) \(states)")
        } catch {
            return (false, "sinfo cannot run: \(error)")
        }
    }()
    static var available: Bool { probe.ok }
    static var why: String { probe.why }

    static func require() throws {
        try #require(available, "no Slurm cluster: \(why); run eval \"$(scripts/slurm-up)\"")
    }

    /// Every job Slurm still knows whose output goes into `ws`'s tree, oldest first.
    static func jobs(of ws: TestWorkspace) -> [Job] {
        guard
            let output = try? CommandRunner.run(
                "scontrol", ["--oneliner", "show", "job"], environment: SwarmBinary.environment)
        else { return [] }
        return output.text.split(separator: "\n").compactMap { line -> Job? in
            let words = line.split(separator: " ")
            func field(_ key: String) -> String? {
                words.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
            }
            guard let stdout = field("StdOut"), stdout.hasPrefix(ws.root + "/"),
                let id = field("JobId"), let name = field("JobName"), let state = field("JobState")
            else { return nil }
            return Job(id: id, name: name, state: state)
        }.sorted { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }
    }

    /// The state Slurm reports for `job`, or nil once it forgot the job.
    static func state(of job: String) -> String? {
        guard
            let output = try? CommandRunner.run(
                "scontrol", ["--oneliner", "show", "job", job], environment: SwarmBinary.environment),
            output.succeeded
        else { return nil }
        return output.text.split(separator: " ").first { $0.hasPrefix("JobState=") }.map { String($0.dropFirst(9)) }
    }

    /// The folder scripts/slurm-up keeps the cluster in: the one of SLURM_CONF.
    static var stateFolder: String {
        SwarmBinary.parent(ProcessEnvironment.snapshot()["SLURM_CONF"] ?? "/nonexistent/slurm.conf")
    }

    /// Stops slurmctld (SIGTERM to the pid scripts/slurm-up recorded) and waits until
    /// `scontrol ping` reports it down.
    static func stopController() throws {
        let pidText = try #require(
            (try? FileSystem.readFile(stateFolder + "/run/slurmctld.pid", limit: 64)).map {
                String(decoding: $0, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
            })
        let pid = try #require(Int32(pidText), "no slurmctld pid in \(stateFolder)/run")
        #expect(Processes.signal(pid, SIGTERM))
        for _ in 0..<500 where Processes.isAlive(pid) { Clock.sleep(milliseconds: 10) }
        try #require(!Processes.isAlive(pid), "slurmctld \(pid) did not stop")
    }

    /// Starts the cluster's missing daemons again with scripts/slurm-up, which waits until the
    /// node is idle.
    static func startController() throws {
        var folder = SwarmBinary.parent(#filePath)
        while folder != "/" && !FileSystem.exists(folder + "/Package.swift") { folder = SwarmBinary.parent(folder) }
        // a cluster started on other ports (SLURM_UP_CTLD_PORT, ...) comes back on the same ones
        let ports = ProcessEnvironment.snapshot().filter { $0.key.hasPrefix("SLURM_UP_") }
            .map { "\($0.key)=\($0.value)" }
        let output = try CommandRunner.run(
            folder + "/scripts/slurm-up", [stateFolder], environment: SwarmBinary.environment + ports,
            timeoutMilliseconds: 120_000)
        try #require(output.succeeded, "scripts/slurm-up failed: \(String(decoding: output.stderr, as: UTF8.self))")
    }

    static func cancelJobs(of ws: TestWorkspace) {
        let live = jobs(of: ws).filter { !["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].contains($0.state) }
        guard !live.isEmpty else { return }
        _ = try? CommandRunner.run("scancel", live.map(\.id), environment: SwarmBinary.environment)
    }
}
