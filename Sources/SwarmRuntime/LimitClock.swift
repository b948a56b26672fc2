import SwarmCore
import SwarmProtocol
import SwarmSystem

/// When a usage limit resets, as an instant: the message's epoch as it is, a wall-clock time
/// read in the zone the message names (its TZif file under /usr/share/zoneinfo) or, without
/// one, in this machine's zone (/etc/localtime; UTC when there is none). Zone files are read
/// once each (at most 1 MiB, a name of outside origin checked by `ZoneName` first).
final class LimitClock {
    let zoneDirectory: String
    let localZone: String
    private var zones: [String: ZoneRules?] = [:]

    /// The largest zone file read.
    static let zoneLimit = 1 << 20

    init(zoneDirectory: String = "/usr/share/zoneinfo", localZone: String = "/etc/localtime") {
        self.zoneDirectory = zoneDirectory
        self.localZone = localZone
    }

    /// The instant `reset` names, said at `now`, and a note for a person when the zone it
    /// names is not known here (then it is read as local time).
    func instant(of reset: LimitReset, now: Millis) -> (at: Millis, note: String?) {
        switch reset {
        case .instant(let at):
            return (at, nil)
        case .after(let wait):
            return (now + max(0, wait), nil)
        case .clock(let time):
            guard let name = time.zone else { return (time.instant(after: now, in: local()), nil) }
            if let rules = zone(name) { return (time.instant(after: now, in: rules), nil) }
            return (
                time.instant(after: now, in: local()),
                "zone \(name) is not known on this machine, so \(time.words) was read as local time"
            )
        }
    }

    /// This machine's zone.
    func local() -> ZoneRules {
        if let cached = zones[""] { return cached ?? .utc }
        let rules = read(FileSystem.realPath(localZone) ?? localZone)
        zones[""] = .some(rules)
        return rules ?? .utc
    }

    /// The zone `name` (`Europe/London`), if this machine has its file.
    func zone(_ name: String) -> ZoneRules? {
        if let cached = zones[name] { return cached }
        let rules = ZoneName.problem(name) == nil ? read(zoneDirectory + "/" + name) : nil
        zones[name] = .some(rules)
        return rules
    }

    private func read(_ path: String) -> ZoneRules? {
        let real = FileSystem.realPath(path) ?? path
        guard let bytes = try? FileSystem.readFile(real, limit: Self.zoneLimit) else { return nil }
        return try? ZoneRules.parse(tzif: bytes)
    }
}
