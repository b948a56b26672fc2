import SwarmCore
import SwarmSystem

extension MetaStore {
    /// Every agent as a reader of the tree should see it (`swarm status`, `tree`, `top`,
    /// `report`, `say --all`): the records of `loadAll`, each read the way a restarted daemon
    /// reads it, and read so that they hold together.
    ///
    /// - An agent that waits for its first run without a record on disk (crash contract, rule
    ///   1) is shown with the queued record its folder gives (`Intake.waitingRecords`).
    /// - A queued record whose first run has started is shown as the running record of that
    ///   start (one attempt and one run, started when its stdout.log was created): the crash
    ///   contract keeps the queued record on disk until the run has lasted 100 ms, and the
    ///   spawn's stdout.log marks the start (`RecordWriter.judge`).
    /// - The files are read one after another while the daemon writes them, so every record
    ///   the first pass finds running is read again after it. The daemon writes the end of a
    ///   run before it starts another in that run's slot, so a run seen starting late in the
    ///   first pass is never shown beside the run that ended to make room for it.
    public static func snapshot(_ workspace: Workspace) -> (records: [AgentRecord], unreadable: [String]) {
        snapshot(workspace, afterFirstPass: {})
    }

    /// `snapshot`, calling `afterFirstPass` between its passes (where a test changes the tree).
    static func snapshot(_ workspace: Workspace, afterFirstPass: () -> Void) -> (
        records: [AgentRecord], unreadable: [String]
    ) {
        var (records, folders) = loadAll(workspace)
        var intake = readerIntake(workspace)
        let (waiting, unreadable) = intake.waitingRecords(in: folders, besides: records)
        records += waiting
        for index in records.indices { showStartedFirstRun(&records[index], in: workspace) }
        afterFirstPass()
        for index in records.indices where records[index].active {
            let id = records[index].id
            guard var again = read(workspace.agentFiles(id).meta), again.id == id else { continue }
            showStartedFirstRun(&again, in: workspace)
            records[index] = again
        }
        return (records, unreadable)
    }

    /// One agent's record as `snapshot` shows it: its meta.json, or, while it waits for its
    /// first run without one (crash contract, rule 1), the queued record its folder gives,
    /// shown running once that run has started. Nil when there is neither.
    public static func record(_ id: String, in workspace: Workspace) -> AgentRecord? {
        if let record = read(workspace.agentFiles(id).meta) { return record }
        var intake = readerIntake(workspace)
        guard var record = intake.waitingRecord(id) else { return nil }
        showStartedFirstRun(&record, in: workspace)
        return record
    }

    /// The intake that makes a waiting agent's record for a reader: the templates of
    /// `workspace`, and no git (a task with a repository always has a record on disk).
    private static func readerIntake(_ workspace: Workspace) -> Intake {
        Intake(workspace: workspace, git: Git(environment: []))
    }

    /// A queued record whose first run has started becomes the record of that start.
    private static func showStartedFirstRun(_ record: inout AgentRecord, in workspace: Workspace) {
        guard !record.active, record.state == .queued, record.runs == 0 else { return }
        let trace = RunTrace.read(workspace.agentFiles(record.id), lockHeld: nil)
        guard RecordWriter.judge(record, trace) == .startedWhileQueued, let started = trace.outputModified
        else { return }
        RecordWriter.markFirstRunStarted(&record, at: started)
    }
}
