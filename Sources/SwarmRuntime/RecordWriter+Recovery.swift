import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What a restarted daemon sees of one recorded run on this machine, besides its record.
struct RunTrace: Equatable {
    /// Some process of the agent holds the lock on its folder: the run goes on.
    var lockHeld: Bool
    /// When stdout.log was last changed (ms); nil when there is none. Only a spawn creates it.
    var outputModified: Millis?
    var hasResults: Bool
    var hasProgress: Bool

    /// The trace of an agent's folder. Without `lockHeld` (a record that is not active, for
    /// which only stdout.log tells anything), only stdout.log is looked at.
    static func read(_ files: AgentFiles, lockHeld: Bool?) -> RunTrace {
        let output = FileSystem.status(files.stdout).map { $0.modifiedNanos / 1_000_000 }
        guard let lockHeld else {
            return RunTrace(lockHeld: false, outputModified: output, hasResults: false, hasProgress: false)
        }
        return RunTrace(
            lockHeld: lockHeld, outputModified: output, hasResults: FileSystem.exists(files.results),
            hasProgress: FileSystem.exists(files.progress))
    }
}

/// The inverse of the crash contract (`RecordWriter`): what a record read back after a crash
/// means, judged from its own fields and the run's trace alone.
extension RecordWriter {
    /// How a recorded local run stands after a restart.
    enum RecoveredRun: Equatable {
        /// Nothing to repair: the record is what the tree says.
        case asRecorded
        /// A queued record whose first run had started (rule 2's exception): it becomes the
        /// running record the start would have written, and the run is judged as below.
        case startedWhileQueued
        /// The run goes on: adopt it.
        case running
        /// The start was recorded but the spawn never happened: undo it (same attempt).
        case neverStarted
        /// The run ended while no daemon watched: judge what it left.
        case endedWhileDown
    }

    /// Judges `record` by `trace`. File times come from the kernel's coarse clock: only a
    /// stdout.log clearly older than the recorded start (an earlier attempt's) proves that the
    /// recorded run never opened it.
    static func judge(_ record: AgentRecord, _ trace: RunTrace) -> RecoveredRun {
        if !record.active {
            // a start put back in the queue (a Slurm step the controller never allocated) has
            // a `notBefore` and may have left a stdout.log behind; the queued record of intake
            // has neither
            let startedQueued =
                record.state == .queued && record.runs == 0 && record.notBefore == nil
                && trace.outputModified != nil
            return startedQueued ? .startedWhileQueued : .asRecorded
        }
        if trace.lockHeld { return .running }
        guard record.pid == nil, let started = record.startedAt, !trace.hasResults,
            !(trace.hasProgress && record.attempts <= 1)
        else { return .endedWhileDown }
        guard let output = trace.outputModified else { return .neverStarted }
        return output < started - 50 ? .neverStarted : .endedWhileDown
    }

    /// `.startedWhileQueued`: the record its first run's start would have written (running,
    /// active, one attempt and one run, started when stdout.log was created).
    static func markFirstRunStarted(_ record: inout AgentRecord, at started: Millis) {
        record.active = true
        record.state = .running
        record.attempts += 1
        record.runs = 1
        record.startedAt = started
        record.notBefore = nil
        record.stopping = nil
        record.pendingWakes = []
    }

    /// `.neverStarted`: the record as it was before the start (the run and, for a first run,
    /// the attempt not counted). An orchestrator's wake-up goes back to waiting for its next wake.
    static func undoStart(_ record: inout AgentRecord) {
        record.active = false
        record.state = record.runs > 1 && record.kind == .orchestrator ? .running : .queued
        if record.state == .queued { record.attempts = max(0, record.attempts - 1) }
        record.runs = max(0, record.runs - 1)
    }
}
