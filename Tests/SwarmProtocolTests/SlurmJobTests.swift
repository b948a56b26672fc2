import SwarmProtocol
import Testing

/// Lines as Slurm 22.05's `scontrol --oneliner show job` prints them (fields abridged).
private let completed =
    "JobId=12 JobName=alpha UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=1 Nice=0 Account=(null) "
    + "QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 "
    + "Reboot=0 ExitCode=0:0 RunTime=00:00:01 TimeLimit=UNLIMITED NodeList=node1 BatchHost=node1 "
    + "WorkDir=/srv/tree/swarm/agents/alpha StdErr=/srv/tree/swarm/agents/alpha/stderr.log "
    + "StdIn=/dev/null StdOut=/srv/tree/swarm/agents/alpha/stdout.log Power="
private let failed =
    "JobId=13 JobName=beta UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
    + "ExitCode=3:0 NodeList=node1 StdOut=/srv/my tree/swarm/agents/beta/stdout.log Power="
private let pending =
    "JobId=14 JobName=gamma JobState=PENDING Reason=Resources ExitCode=0:0 NodeList=(null) StdOut=/x"

@Test func readsTheFieldsTheRuntimeUses() throws {
    let job = try #require(SlurmJob.parse(completed))
    #expect(job.id == "12" && job.name == "alpha" && job.state == "COMPLETED" && job.reason == "None")
    #expect(job.exitCode == 0 && job.signal == 0 && job.nodes == "node1")
    #expect(job.stdout == "/srv/tree/swarm/agents/alpha/stdout.log")
    #expect(job.phase == .ended(problem: nil))
}

@Test func aPathWithASpaceStaysWhole() throws {
    let job = try #require(SlurmJob.parse(failed))
    #expect(job.stdout == "/srv/my tree/swarm/agents/beta/stdout.log")
    #expect(job.exitCode == 3 && job.reason == "NonZeroExitCode")
}

@Test func readsAListAndSkipsWhatIsNoJob() {
    let jobs = SlurmJob.parseList([completed, failed, pending, "No jobs in the system", ""].joined(separator: "\n"))
    #expect(jobs.map(\.id) == ["12", "13", "14"])
    #expect(SlurmJob.parseList("No jobs in the system\n").isEmpty)
}

@Test func mapsSlurmStatesToPhases() {
    func phase(_ state: String, nodes: String = "n7") -> SlurmJob.Phase {
        SlurmJob(id: "1", name: "a", state: state, nodes: nodes).phase
    }
    for held in ["PENDING", "CONFIGURING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD"] { #expect(phase(held) == .held) }
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

@Test func signalAndCodeComeFromExitCode() throws {
    let job = try #require(SlurmJob.parse("JobId=9 JobName=x JobState=CANCELLED ExitCode=0:15 NodeList=n1"))
    #expect(job.exitCode == 0 && job.signal == 15)
    #expect(SlurmJob.parse("JobName=x JobState=RUNNING") == nil)
    #expect(SlurmJob.parse("JobId=9 JobName=x") == nil)
}

@Test func onlyNamesAndPathsHoldSpaces() throws {
    let job = try #require(SlurmJob.parse("JobId=7 extra JobName=my job JobState=RUNNING stray Reason=None x NodeList=n1 y"))
    #expect(job.id == "7" && job.name == "my job" && job.state == "RUNNING" && job.reason == "None" && job.nodes == "n1")
}
