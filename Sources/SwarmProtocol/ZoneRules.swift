/// A time zone's offsets from UTC over time, read from a TZif file (RFC 8536, what
/// /usr/share/zoneinfo holds): its transitions, and the POSIX TZ rule of its footer for the
/// times after the last one. Bytes in, offsets out: reading the file is the caller's business.
public struct ZoneRules: Sendable, Equatable {
    /// Transition times (Unix seconds), ascending.
    var transitions: [Int64]
    /// The UTC offset (seconds east) in force from each transition on.
    var offsets: [Int64]
    /// The offset before the first transition (the file's first time type).
    var initial: Int64
    /// The footer's rule, for times after the last transition.
    var rule: PosixZone?

    /// A zone that is always `seconds` east of UTC.
    public init(fixed seconds: Int64) {
        transitions = []
        offsets = []
        initial = seconds
        rule = nil
    }

    /// UTC itself.
    public static let utc = ZoneRules(fixed: 0)

    /// The offset from UTC (seconds east) at the instant `seconds` (Unix time).
    public func offset(at seconds: Int64) -> Int64 {
        guard let last = transitions.last else { return rule?.offset(at: seconds) ?? initial }
        if seconds >= last, let rule { return rule.offset(at: seconds) }
        guard seconds >= transitions[0] else { return initial }
        var low = 0
        var high = transitions.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if transitions[middle] <= seconds { low = middle } else { high = middle - 1 }
        }
        return offsets[low]
    }

    /// Reads a TZif file (versions 1 to 4); the 64-bit data of version 2 and later is used.
    public static func parse(tzif bytes: [UInt8]) throws(ProtocolError) -> ZoneRules {
        var reader = TZifReader(bytes)
        let first = try reader.header()
        guard first.version >= 2 else { return try reader.block(first, wide: false) }
        try reader.skip(first.dataLength(wide: false))
        let second = try reader.header()
        var rules = try reader.block(second, wide: true)
        rules.rule = reader.footer().flatMap(PosixZone.parse)
        return rules
    }
}

/// The counts of one TZif header.
private struct TZifHeader {
    var version: Int
    var isutcnt: Int
    var isstdcnt: Int
    var leapcnt: Int
    var timecnt: Int
    var typecnt: Int
    var charcnt: Int

    func dataLength(wide: Bool) -> Int {
        let time = wide ? 8 : 4
        return timecnt * time + timecnt + typecnt * 6 + charcnt + leapcnt * (time + 4) + isstdcnt + isutcnt
    }
}

/// Reads big-endian fields of a TZif file front to back.
private struct TZifReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func header() throws(ProtocolError) -> TZifHeader {
        guard bytes.count >= at + 44, bytes[at..<at + 4].elementsEqual(Array("TZif".utf8)) else {
            throw ProtocolError("not a TZif time zone file")
        }
        let versionByte = bytes[at + 4]
        at += 20
        var counts: [Int] = []
        for _ in 0..<6 { counts.append(Int(try integer(4))) }
        let header = TZifHeader(
            version: versionByte == 0 ? 1 : Int(versionByte) - 0x30, isutcnt: counts[0], isstdcnt: counts[1],
            leapcnt: counts[2], timecnt: counts[3], typecnt: counts[4], charcnt: counts[5])
        guard header.typecnt > 0, counts.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else {
            throw ProtocolError("the TZif file has implausible counts")
        }
        return header
    }

    mutating func skip(_ count: Int) throws(ProtocolError) {
        guard at + count <= bytes.count else { throw ProtocolError("the TZif file is cut short") }
        at += count
    }

    mutating func integer(_ width: Int) throws(ProtocolError) -> Int64 {
        guard at + width <= bytes.count else { throw ProtocolError("the TZif file is cut short") }
        var value: UInt64 = 0
        for byte in bytes[at..<at + width] { value = value << 8 | UInt64(byte) }
        at += width
        // sign-extend
        let shift = UInt64(64 - width * 8)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }

    mutating func block(_ header: TZifHeader, wide: Bool) throws(ProtocolError) -> ZoneRules {
        var times: [Int64] = []
        for _ in 0..<header.timecnt { times.append(try integer(wide ? 8 : 4)) }
        var indices: [Int] = []
        for _ in 0..<header.timecnt { indices.append(Int(try integer(1))) }
        var offsets: [Int64] = []
        for _ in 0..<header.typecnt {
            offsets.append(try integer(4))
            try skip(2)
        }
        try skip(header.charcnt + header.leapcnt * ((wide ? 8 : 4) + 4) + header.isstdcnt + header.isutcnt)
        guard indices.allSatisfy({ $0 < offsets.count }) else {
            throw ProtocolError("the TZif file names a time type it does not have")
        }
        var rules = ZoneRules(fixed: offsets[0])
        rules.transitions = times
        rules.offsets = indices.map { offsets[$0] }
        return rules
    }

    /// The TZ string between the newlines after the 64-bit data, if any.
    func footer() -> String? {
        guard at < bytes.count, bytes[at] == 0x0A else { return nil }
        guard let end = bytes[(at + 1)...].firstIndex(of: 0x0A), end > at + 1 else { return nil }
        return String(decoding: bytes[(at + 1)..<end], as: UTF8.self)
    }
}

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`): a standard offset and, optionally, a
/// daylight offset with the rules of its start and end.
struct PosixZone: Sendable, Equatable {
    /// Seconds east of UTC.
    var standard: Int64
    var daylight: Int64?
    var start: Day?
    var end: Day?

    /// A day of the year and the local time the change happens at.
    enum Day: Sendable, Equatable {
        /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
        case weekday(month: Int64, week: Int64, day: Int64, time: Int64)
        /// `Jn`: day 1...365, February 29 never counted.
        case julian(Int64, time: Int64)
        /// `n`: day 0...365, February 29 counted.
        case ordinal(Int64, time: Int64)
    }

    static func parse(_ text: String) -> PosixZone? {
        var scanner = PosixScanner(Array(text.utf8))
        guard scanner.name(), let standard = scanner.offset() else { return nil }
        var zone = PosixZone(standard: -standard)
        guard !scanner.atEnd else { return zone }
        guard scanner.name() else { return nil }
        if let daylight = scanner.offset() {
            zone.daylight = -daylight
        } else {
            zone.daylight = zone.standard + 3600
        }
        guard scanner.take(0x2C), let start = scanner.day(), scanner.take(0x2C), let end = scanner.day(),
            scanner.atEnd
        else {
            return nil
        }
        zone.start = start
        zone.end = end
        return zone
    }

    func offset(at seconds: Int64) -> Int64 {
        guard let daylight, let start, let end else { return standard }
        let year = Timestamp.civil(fromDays: Self.floorDays(seconds + standard)).year
        let begins = Self.local(start, in: year) - standard
        let ends = Self.local(end, in: year) - daylight
        let inDaylight =
            begins < ends ? (begins <= seconds && seconds < ends) : !(ends <= seconds && seconds < begins)
        return inDaylight ? daylight : standard
    }

    /// Local seconds since the epoch of `day` in `year`.
    static func local(_ day: Day, in year: Int64) -> Int64 {
        let january = Timestamp.days(fromCivil: year, month: 1, day: 1)
        switch day {
        case .weekday(let month, let week, let weekday, let time):
            let first = Timestamp.days(fromCivil: year, month: month, day: 1)
            let firstWeekday = ((first + 4) % 7 + 7) % 7
            var date = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
            let length = Timestamp.daysIn(month: month, year: year)
            while date > length { date -= 7 }
            return (first + date - 1) * 86_400 + time
        case .julian(let n, let time):
            let leap = Timestamp.daysIn(month: 2, year: year) == 29
            return (january + n - 1 + (leap && n >= 60 ? 1 : 0)) * 86_400 + time
        case .ordinal(let n, let time):
            return (january + n) * 86_400 + time
        }
    }

    static func floorDays(_ seconds: Int64) -> Int64 {
        seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
    }
}

/// Reads the parts of a POSIX TZ string.
private struct PosixScanner {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { at >= bytes.count }

    mutating func take(_ byte: UInt8) -> Bool {
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    /// A zone abbreviation: `<+0530>` or three or more letters.
    mutating func name() -> Bool {
        if take(0x3C) {
            while at < bytes.count, bytes[at] != 0x3E { at += 1 }
            return take(0x3E)
        }
        let start = at
        while at < bytes.count, (bytes[at] | 0x20) >= 0x61, (bytes[at] | 0x20) <= 0x7A { at += 1 }
        return at - start >= 3
    }

    /// `[+-]hh[:mm[:ss]]` in seconds (positive west of Greenwich, as POSIX writes it).
    mutating func offset() -> Int64? {
        var sign: Int64 = 1
        if take(0x2D) { sign = -1 } else { _ = take(0x2B) }
        guard let hours = number() else { return nil }
        var total = hours * 3600
        if take(0x3A) {
            guard let minutes = number() else { return nil }
            total += minutes * 60
            if take(0x3A) {
                guard let seconds = number() else { return nil }
                total += seconds
            }
        }
        return sign * total
    }

    mutating func number() -> Int64? {
        var value: Int64 = 0
        var digits = 0
        while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39, digits < 6 {
            value = value * 10 + Int64(bytes[at] - 0x30)
            at += 1
            digits += 1
        }
        return digits == 0 ? nil : value
    }

    /// `Mm.w.d[/time]`, `Jn[/time]` or `n[/time]`; the time defaults to 02:00.
    mutating func day() -> PosixZone.Day? {
        func time() -> Int64? { take(0x2F) ? offset() : 7200 }
        if take(0x4D) {
            guard let month = number(), (1...12).contains(month), take(0x2E), let week = number(),
                (1...5).contains(week), take(0x2E), let day = number(), day <= 6, let moment = time()
            else { return nil }
            return .weekday(month: month, week: week, day: day, time: moment)
        }
        if take(0x4A) {
            guard let n = number(), (1...365).contains(n), let moment = time() else { return nil }
            return .julian(n, time: moment)
        }
        guard let n = number(), n <= 365, let moment = time() else { return nil }
        return .ordinal(n, time: moment)
    }
}
