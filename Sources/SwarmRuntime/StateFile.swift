import SwarmSystem

/// state.json, written off the loop's thread. In a tree of a thousand agents it is half a
/// megabyte, and its write and the rename over the old one (which makes ext4 write the new
/// data first) took the loop 1.5 to 2.5 ms, during which no task was taken in and no agent
/// started. The loop builds the bytes; one helper lane writes them, in order. A write that
/// fails is handed to the `TreeWriter` (which tries again and stalls the tree like any other
/// failed write) unless a newer one has been handed over since: state.json is a cache, and
/// only its newest version matters.
struct StateFile {
    /// The lane state.json is written on.
    static let lane = "state.json"
    /// The number of the newest version handed over.
    private(set) var newest: UInt64 = 0

    /// Numbers a new version.
    mutating func next() -> UInt64 {
        newest += 1
        return newest
    }
}

extension Daemon {
    /// Writes `bytes` to state.json: on the helper lane while the tree takes writes; through
    /// the writer, after every write on the lane, when the tree is stalled (the write joins
    /// those owed) or when `final` (a stopping daemon's last state must be on disk when it
    /// exits).
    func writeStateFile(_ bytes: [UInt8], final: Bool) {
        let path = workspace.statePath
        let version = stateFile.next()
        if final || writer.isStalled {
            background.waitForLane(StateFile.lane)
            writer.replace(path, with: bytes, now: now)
            return
        }
        let storage = writer.storage
        background.submit(lane: StateFile.lane) { _ -> Errno? in
            do throws(Errno) {
                try storage.replace(path, with: bytes)
                return nil
            } catch {
                return error
            }
        } then: { [weak self] failure in
            guard let self, failure != nil, version == stateFile.newest else { return }
            writer.replace(path, with: bytes, now: now)
            reportWrites()
        }
    }
}
