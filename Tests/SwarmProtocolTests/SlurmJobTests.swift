import SwarmProtocol
import Testing

/// Lines as Slurm 22.05's `squeue --me --noheader --states=all --Format=` `SlurmJob.queueFormat`
/// printed them on the single-node cluster of scripts/slurm-up (job 9565 ran `exit 3`, 9568 was
/// cancelled while it ran, 9570 killed its own script with SIGKILL, 9566 was held).
private let recorded = """
    9568|CANCELLED|None|15|vm|eps|/tmp/fx/e.log|
    9564|COMPLETED|None|0|vm|alpha|/tmp/fx/alpha.log|
    9565|FAILED|NonZeroExitCode|768|vm|beta|/tmp/fx/my tree/stdout.log|
    9570|FAILED|JobLaunchFailure|9|vm|sig|/tmp/fx/s.log|
    9566|PENDING|JobHeldUser|0||gamma|/tmp/fx/g.log|
    9567|RUNNING|None|0|vm|delta|/tmp/fx/d.log|

    """

@Test func readsTheFieldsTheRuntimeUses() throws {
    let jobs = Dictionary(uniqueKeysWithValues: SlurmJob.parseList(recorded).map { ($0.id, $0) })
    #expect(jobs.count == 6)
    let completed = try #require(jobs["9564"])
    #expect(completed.name == "alpha" && completed.state == "COMPLETED" && completed.reason == "None")
    #expect(completed.exitCode == 0 && completed.signal == 0 && completed.nodes == "vm")
    #expect(completed.stdout == "/tmp/fx/alpha.log")
    #expect(completed.phase == .ended(problem: nil))
    let pending = try #require(jobs["9566"])
    #expect(pending.phase == .held && pending.reason == "JobHeldUser" && pending.nodes == "")
    #expect(jobs["9567"]?.phase == .running)
}

@Test func aPathWithASpaceStaysWhole() throws {
    let job = try #require(SlurmJob.parseList(recorded).first { $0.id == "9565" })
    #expect(job.stdout == "/tmp/fx/my tree/stdout.log")
    #expect(job.exitCode == 3 && job.signal == 0 && job.reason == "NonZeroExitCode")
}

@Test func theExitCodeIsAWaitStatus() throws {
    let jobs = SlurmJob.parseList(recorded)
    let cancelled = try #require(jobs.first { $0.id == "9568" })
    #expect(cancelled.signal == 15 && cancelled.exitCode == 0)
    let killed = try #require(jobs.first { $0.id == "9570" })
    #expect(killed.signal == 9 && killed.exitCode == 0)
}

@Test(
    "what is no job line gives nothing",
    arguments: [
        "", "slurm_load_jobs error: Invalid job id specified",
        "JOBID|STATE|REASON|EXIT_CODE|NODELIST|NAME|STDOUT|",
        "12|RUNNING|None|0|n1|a1", "|RUNNING|None|0|n1|a1|/x|", "12||None|0|n1|a1|/x|",
        "12|RUNNING|None|x|n1|a1|/x|",
    ])
func unreadableLinesGiveNothing(line: String) {
    #expect(SlurmJob.parse(line) == nil)
}

@Test func mapsSlurmStatesToPhases() {
    func phase(_ state: String, nodes: String = "n7") -> SlurmJob.Phase {
        SlurmJob(id: "1", name: "a", state: state, nodes: nodes).phase
    }
    for held in ["PENDING", "CONFIGURING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD"] {
        #expect(phase(held) == .held)
    }
    for running in ["RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "SOMETHING_NEW"] {
        #expect(phase(running) == .running)
    }
    #expect(phase("COMPLETED") == .ended(problem: nil) && phase("FAILED") == .ended(problem: nil))
    guard case .ended(let node?) = phase("NODE_FAIL"), case .ended(let limit?) = phase("TIMEOUT"),
        case .ended(let memory?) = phase("OUT_OF_MEMORY"), case .ended(let cancelled?) = phase("CANCELLED")
    else {
        Issue.record("Slurm's failures must come with a reason")
        return
    }
    #expect(node.contains("n7") && node.contains("failed"))
    #expect(limit.contains("time limit") && memory.contains("memory") && cancelled.contains("cancelled"))
}

@Test func aPathMayHoldTheSeparator() throws {
    let job = try #require(SlurmJob.parse("7|RUNNING||0|n1|a1|/srv/a|b/stdout.log|"))
    #expect(job.stdout == "/srv/a|b/stdout.log" && job.reason == "None" && job.name == "a1")
}
