import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Where the firings of schedules are, derived from the tree whenever it is needed and never
/// stored (so no crash can leave a count that disagrees with the tree). Firing `n` of schedule
/// `NAME` is the task `NAME-<n>`: a file in `swarm/inbox/` or `swarm/claimed/_inbox/` (written,
/// not yet taken in), one in `swarm/rejected/` (refused by intake), or an agent. The highest
/// `n` found is the last firing; its task file says which slot it fired for.
public struct FiringLedger: Sendable {
    /// Where a firing is.
    public enum Place: String, Sendable, Equatable {
        case inbox, claimed, rejected, agent
    }

    /// One firing found in the tree.
    public struct Firing: Sendable, Equatable {
        public var number: Int
        public var id: String
        public var place: Place
        /// Its task file (for an agent, `agents/<id>/source.md`).
        public var path: String
    }

    private var found: [(id: String, place: Place, path: String)] = []

    /// Reads the names in the inbox, the inbox's claimed folder and the rejected folder, and
    /// takes `agentIDs` (the scheduler's agents, or the folders of `swarm/agents/`).
    public static func scan(_ workspace: Workspace, agentIDs: some Sequence<String>) -> FiringLedger {
        var ledger = FiringLedger()
        for id in agentIDs {
            ledger.found.append((id, .agent, workspace.agentDirectory(id) + "/source.md"))
        }
        let folders: [(String, Place)] = [
            (workspace.inbox, .inbox), (workspace.claimedDirectory(parent: nil), .claimed),
            (workspace.rejected, .rejected),
        ]
        for (folder, place) in folders {
            for entry in (try? FileSystem.entries(of: folder)) ?? [] {
                guard let id = taskID(fileName: entry.name) else { continue }
                ledger.found.append((id, place, folder + "/" + entry.name))
            }
        }
        return ledger
    }

    /// The id a task file stands for when it is named like a firing: `ID.md`, or `ID.md.<k>`
    /// (the name intake gives a file whose name was taken where it moved it).
    static func taskID(fileName: String) -> String? {
        if fileName.hasPrefix(".") { return nil }
        if fileName.hasSuffix(".md") { return String(fileName.dropLast(3)) }
        guard let marker = fileName.lastIndex(of: "."), fileName[..<marker].hasSuffix(".md") else {
            return nil
        }
        let suffix = fileName[fileName.index(after: marker)...]
        guard !suffix.isEmpty, suffix.allSatisfy({ $0.isNumber && $0.isASCII }) else { return nil }
        return String(fileName[..<marker].dropLast(3))
    }

    /// The last firing of schedule `name`: the highest number, an agent before a file.
    public func last(of name: String) -> Firing? {
        var best: Firing?
        for entry in found {
            guard let number = ScheduleParser.firingNumber(of: entry.id, schedule: name) else { continue }
            let candidate = Firing(number: number, id: entry.id, place: entry.place, path: entry.path)
            guard let current = best else {
                best = candidate
                continue
            }
            if number > current.number || number == current.number && rank(entry.place) < rank(current.place)
            {
                best = candidate
            }
        }
        return best
    }

    private func rank(_ place: Place) -> Int {
        switch place {
        case .agent: 0
        case .claimed: 1
        case .inbox: 2
        case .rejected: 3
        }
    }

    /// The slot `firing` fired for, as its task file says; for a task that says none (not
    /// written by a schedule), the slot that holds the file's modification time.
    public static func slot(of firing: Firing, schedule name: String, period: Millis) -> Millis? {
        let status = FileSystem.status(firing.path)
        if let bytes = try? FileSystem.readFile(firing.path, limit: Intake.taskLimit),
            let slot = ScheduleParser.slot(ofFiring: bytes, schedule: name)
        {
            return slot
        }
        return status.map { SchedulePlanner.slot(at: $0.modifiedNanos / 1_000_000, period: period) }
    }
}
