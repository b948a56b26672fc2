/// When a subscription's usage limit resets, as the agent's CLI said it.
public enum LimitReset: Sendable, Equatable {
    /// An instant, in Unix milliseconds: `Claude AI usage limit reached|1755615600`, the
    /// `resetsAt` of a rejected Claude Code `rate_limit_event`.
    case instant(Int64)
    /// A time on a wall clock: "resets 4:50pm (America/Denver)", "resets Mon 9am", "reset at
    /// 1 PM (Asia/Dubai)", "resets Jan 30, 11:30am (Asia/Calcutta)", "try again at 3:12 PM".
    case clock(WallClockTime)
    /// A wait, in milliseconds, from when it was said (`retry_after_ms` of a result, Codex's
    /// "try again in 5 days 22 hours 11 minutes").
    case after(Int64)
}

/// A wall-clock time a usage limit names; the next such time after the message counts.
public struct WallClockTime: Sendable, Equatable {
    /// 0...23.
    public var hour: Int
    public var minute: Int
    /// 0 = Sunday ... 6 = Saturday, when the text names a day of the week.
    public var weekday: Int?
    /// 1...12 and 1...31, when the text names a date; the year when it names one too.
    public var month: Int?
    public var day: Int?
    public var year: Int?
    /// The IANA zone in parentheses ("America/Denver"), when given.
    public var zone: String?

    public init(
        hour: Int, minute: Int = 0, weekday: Int? = nil, month: Int? = nil, day: Int? = nil, year: Int? = nil,
        zone: String? = nil
    ) {
        self.hour = hour
        self.minute = minute
        self.weekday = weekday
        self.month = month
        self.day = day
        self.year = year
        self.zone = zone
    }

    /// The time as a person reads it: "16:50", "Mon 09:00", "01-30 11:30", with the zone.
    public var words: String {
        var text = ""
        if let weekday { text += LimitResetText.weekdays[weekday].capitalized3 + " " }
        if let month, let day { text += Self.two(month) + "-" + Self.two(day) + " " }
        text += Self.two(hour) + ":" + Self.two(minute)
        if let zone { text += " (\(zone))" }
        return text
    }

    /// The first instant after `now` (Unix milliseconds) when the clock of `zone` shows this
    /// time. A time that passed less than `justPassed` ago counts as now: CLIs round the reset
    /// to the minute or the hour, and "resets 5am" seen at 5:00:20 means it has just reset.
    public func instant(after now: Int64, in zone: ZoneRules) -> Int64 {
        let seconds = Self.floorDivide(now, 1000)
        let local = seconds + zone.offset(at: seconds)
        let today = Self.floorDivide(local, 86_400)
        let (year, _, _) = Timestamp.civil(fromDays: today)
        let clock = Int64(hour * 3600 + minute * 60)
        func utc(days: Int64) -> Int64 {
            let wall = days * 86_400 + clock
            let guess = wall - zone.offset(at: wall)
            return wall - zone.offset(at: guess)
        }
        let earliest = seconds - Self.justPassed
        var candidate: Int64
        if let month, let day, let given = self.year {
            candidate = utc(
                days: Timestamp.days(fromCivil: Int64(given), month: Int64(month), day: Int64(day)))
        } else if let month, let day {
            candidate = utc(days: Timestamp.days(fromCivil: year, month: Int64(month), day: Int64(day)))
            if candidate < earliest {
                candidate = utc(
                    days: Timestamp.days(fromCivil: year + 1, month: Int64(month), day: Int64(day)))
            }
        } else if let weekday {
            let todayWeekday = ((today + 4) % 7 + 7) % 7
            var ahead = (Int64(weekday) - todayWeekday + 7) % 7
            candidate = utc(days: today + ahead)
            if candidate < earliest {
                ahead += 7
                candidate = utc(days: today + ahead)
            }
        } else {
            candidate = utc(days: today)
            if candidate < earliest { candidate = utc(days: today + 1) }
        }
        return max(candidate, seconds) * 1000
    }

    /// How long ago a named time may have passed and still count as now, in seconds.
    public static let justPassed: Int64 = 600

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }
}

extension String {
    fileprivate var capitalized3: String { prefix(1).uppercased() + dropFirst().prefix(2) }
}

/// Finds the reset of a usage limit in the text a CLI printed.
public enum LimitResetText {
    /// Weekday names from Sunday, lowercase.
    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    static let months = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]

    /// Phrases after which the reset time follows.
    static let leads = ["resets at ", "reset at ", "resets ", "try again at ", "available again at "]

    /// The reset `text` names: the epoch after `usage limit reached|` or in a `resets_at` field,
    /// else a wait after "try again in" or "resets in", else the first wall-clock time after
    /// "resets", "reset at" or "try again at". Nil when it names none.
    public static func find(in text: String) -> LimitReset? {
        let lower = Array(text.lowercased().utf8)
        if let epoch = epoch(after: "usage limit reached|", in: lower) ?? epoch(
            after: "resets_at\":", in: lower)
            ?? epoch(after: "resetsat\":", in: lower)
        {
            return .instant(epoch * 1000)
        }
        for lead in ["try again in ", "resets in ", "reset in "] {
            if let found = index(of: Array(lead.utf8), in: lower, from: 0),
                let wait = wait(lower, at: found + lead.utf8.count)
            {
                return .after(wait)
            }
        }
        for lead in leads {
            var from = 0
            let needle = Array(lead.utf8)
            while let found = index(of: needle, in: lower, from: from) {
                from = found + 1
                var scanner = ClockScanner(text: Array(text.utf8), at: found + needle.count)
                if let time = scanner.time() { return .clock(time) }
            }
        }
        return nil
    }

    /// "5 days 22 hours 11 minutes", "3 hours 2 minutes", "2h 5m", "40 seconds", in
    /// milliseconds.
    static func wait(_ lower: [UInt8], at start: Int) -> Int64? {
        var i = start
        var total: Int64 = 0
        var parts = 0
        while true {
            while i < lower.count, lower[i] == 0x20 || lower[i] == 0x2C { i += 1 }
            if parts > 0, i + 4 <= lower.count, lower[i..<i + 4].elementsEqual(Array("and ".utf8)) { i += 4 }
            var value: Int64 = 0
            var digits = 0
            while i < lower.count, lower[i] >= 0x30, lower[i] <= 0x39, digits < 6 {
                value = value * 10 + Int64(lower[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits > 0 else { break }
            while i < lower.count, lower[i] == 0x20 { i += 1 }
            var end = i
            while end < lower.count, lower[end] >= 0x61, lower[end] <= 0x7A { end += 1 }
            let unit: Int64
            switch String(decoding: lower[i..<end], as: UTF8.self) {
            case "d", "day", "days": unit = 86_400_000
            case "h", "hr", "hrs", "hour", "hours": unit = 3_600_000
            case "m", "min", "mins", "minute", "minutes": unit = 60_000
            case "s", "sec", "secs", "second", "seconds": unit = 1000
            default: return parts > 0 ? total : nil
            }
            total += value * unit
            parts += 1
            i = end
        }
        return parts > 0 ? total : nil
    }

    /// The Unix seconds right after `lead` (`usage limit reached|1755615600`,
    /// `"resets_at":1777936568`).
    static func epoch(after lead: String, in lower: [UInt8]) -> Int64? {
        let needle = Array(lead.utf8)
        guard let found = index(of: needle, in: lower, from: 0) else { return nil }
        var value: Int64 = 0
        var digits = 0
        var i = found + needle.count
        while i < lower.count, lower[i] == 0x20 { i += 1 }
        while i < lower.count, lower[i] >= 0x30, lower[i] <= 0x39, digits < 12 {
            value = value * 10 + Int64(lower[i] - 0x30)
            digits += 1
            i += 1
        }
        return (9...11).contains(digits) ? value : nil
    }

    static func index(of needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, needle.count <= bytes.count else { return nil }
        var i = max(0, from)
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], bytes[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// Reads `[weekday] [month day,] h[:mm][ ]am|pm [(Zone/Name)]`, or a 24-hour `hh:mm`.
private struct ClockScanner {
    let text: [UInt8]
    var at: Int

    init(text: [UInt8], at: Int) {
        self.text = text
        self.at = at
    }

    mutating func time() -> WallClockTime? {
        var result = WallClockTime(hour: 0)
        if let weekday = word(in: LimitResetText.weekdays) {
            result.weekday = weekday
            skip(",")
            spaces()
        }
        if let month = word(in: LimitResetText.months) {
            guard let day = number(maxDigits: 2), (1...31).contains(day) else { return nil }
            result.month = month + 1
            result.day = day
            ordinalSuffix()
            skip(",")
            spaces()
            let mark = at
            if let year = number(maxDigits: 4), year >= 2000, !peek(":") {
                result.year = year
                skip(",")
                spaces()
            } else {
                at = mark
            }
        }
        guard var hour = number(maxDigits: 2) else { return nil }
        var minute = 0
        var hasColon = false
        if peek(":") {
            at += 1
            guard let minutes = number(maxDigits: 2), minutes < 60 else { return nil }
            minute = minutes
            hasColon = true
        }
        spaces()
        if let half = meridiem() {
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (half ? 12 : 0)
        } else if !hasColon || hour > 23 {
            return nil
        }
        result.hour = hour
        result.minute = minute
        spaces()
        if peek("(") { result.zone = zone() }
        return result
    }

    /// `am`, `pm`, `a.m.`, `p.m.` (any case): true for pm.
    private mutating func meridiem() -> Bool? {
        guard at < text.count else { return nil }
        let first = text[at] | 0x20
        guard first == 0x61 || first == 0x70 else { return nil }
        var i = at + 1
        if i < text.count, text[i] == 0x2E { i += 1 }
        guard i < text.count, text[i] | 0x20 == 0x6D else { return nil }
        i += 1
        if i < text.count, text[i] == 0x2E { i += 1 }
        if i < text.count, (text[i] | 0x20) >= 0x61, (text[i] | 0x20) <= 0x7A { return nil }
        at = i
        return first == 0x70
    }

    /// `(America/Denver)`: the name inside, when it looks like a zone name.
    private mutating func zone() -> String? {
        var i = at + 1
        var name: [UInt8] = []
        while i < text.count, text[i] != 0x29, name.count < 64 {
            name.append(text[i])
            i += 1
        }
        guard i < text.count, !name.isEmpty, ZoneName.problem(String(decoding: name, as: UTF8.self)) == nil
        else { return nil }
        at = i + 1
        return String(decoding: name, as: UTF8.self)
    }

    /// The index in `words` of the word here (its full name or its first three letters).
    private mutating func word(in words: [String]) -> Int? {
        var end = at
        while end < text.count, (text[end] | 0x20) >= 0x61, (text[end] | 0x20) <= 0x7A { end += 1 }
        guard end - at >= 3 else { return nil }
        let found = String(decoding: text[at..<end], as: UTF8.self).lowercased()
        guard let index = words.firstIndex(where: { $0 == found || $0.prefix(3) == found }) else {
            return nil
        }
        at = end
        if at < text.count, text[at] == 0x2E { at += 1 }
        spaces()
        return index
    }

    private mutating func number(maxDigits: Int) -> Int? {
        var value = 0
        var digits = 0
        while at < text.count, text[at] >= 0x30, text[at] <= 0x39 {
            guard digits < maxDigits else { return nil }
            value = value * 10 + Int(text[at] - 0x30)
            digits += 1
            at += 1
        }
        return digits == 0 ? nil : value
    }

    /// `st`, `nd`, `rd` or `th` after a day of the month.
    private mutating func ordinalSuffix() {
        guard at + 1 < text.count else { return }
        let pair = String(decoding: text[at..<at + 2], as: UTF8.self).lowercased()
        if ["st", "nd", "rd", "th"].contains(pair) { at += 2 }
    }

    private func peek(_ character: Unicode.Scalar) -> Bool {
        at < text.count && text[at] == UInt8(character.value)
    }

    private mutating func skip(_ character: Unicode.Scalar) {
        if peek(character) { at += 1 }
    }

    private mutating func spaces() {
        while at < text.count, text[at] == 0x20 { at += 1 }
    }
}

/// IANA time zone names as the runtime accepts them from outside (a CLI's message): they
/// become a path under /usr/share/zoneinfo, so only `Area/City` shapes pass.
public enum ZoneName {
    /// Why `name` is not an acceptable zone name, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty || name.utf8.count > 64 { return "a zone name is 1 to 64 characters" }
        if name.hasPrefix("/")
            || name.split(separator: "/", omittingEmptySubsequences: false).contains(where: {
                $0.isEmpty || $0 == "." || $0 == ".."
            })
        {
            return "\(Quote.show(name)) is not a zone name such as Europe/London"
        }
        let allowed = name.unicodeScalars.allSatisfy {
            ($0 >= "A" && $0 <= "Z") || ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "/"
                || $0 == "_" || $0 == "-" || $0 == "+"
        }
        guard allowed, let first = name.unicodeScalars.first, (first >= "A" && first <= "Z") else {
            return "\(Quote.show(name)) is not a zone name such as Europe/London"
        }
        return nil
    }
}
