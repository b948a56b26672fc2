/// Durations as people write them in config, templates and flags: `250ms`, `30s`, `15m`, `2h`.
public enum DurationText {
    /// The units, largest first, with their length in milliseconds.
    static let units: [(suffix: String, milliseconds: Int64)] = [
        ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Milliseconds for a whole number followed by a unit (`ms`, `s`, `m`, `h`), e.g. `30s`
    /// -> 30000. Surrounding whitespace is ignored. A bare number (the unit is required),
    /// a fraction, a sign, or a value past `Int64` gives nil.
    public static func parse(_ text: String) -> Int64? {
        let text = text.trimmed
        guard let unitStart = text.firstIndex(where: { !$0.isASCIIDigit }) else { return nil }
        let digits = String(text[..<unitStart])
        let suffix = String(text[unitStart...])
        guard digits.isDigits, let count = Int64(digits),
            let unit = units.first(where: { $0.suffix == suffix })
        else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: unit.milliseconds)
        return overflow ? nil : product
    }

    /// The shortest exact text for `milliseconds`, in the largest unit that divides it:
    /// 900000 -> `15m`, 1500 -> `1500ms`, 0 -> `0s`. Negative values get a leading `-`.
    public static func format(_ milliseconds: Int64) -> String {
        if milliseconds == 0 { return "0s" }
        if milliseconds < 0 {
            guard milliseconds != .min else { return "\(milliseconds)ms" }
            return "-" + format(-milliseconds)
        }
        let unit = units.first { milliseconds % $0.milliseconds == 0 } ?? units[units.count - 1]
        return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
    }
}

/// ISO-8601 timestamps in UTC with milliseconds, as progress lines, alerts and meta files
/// use them: `2026-11-24T12:00:00.123Z`.
public enum Timestamp {
    /// `2026-11-24T12:00:00.123Z` for milliseconds since 1970-01-01T00:00:00Z (the proleptic
    /// Gregorian calendar; years before 0 or after 9999 are written with more digits or a sign).
    public static func iso8601(milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = dayMilliseconds / 1000
        if (0...9999).contains(year) {
            // the common case, written straight into the string's bytes: the runtime stamps
            // every line of events.jsonl and every agent's line of state.json
            let fields: [(value: Int64, width: Int, after: UInt8)] = [
                (year, 4, UInt8(ascii: "-")), (month, 2, UInt8(ascii: "-")), (day, 2, UInt8(ascii: "T")),
                (seconds / 3600, 2, UInt8(ascii: ":")), (seconds / 60 % 60, 2, UInt8(ascii: ":")),
                (seconds % 60, 2, UInt8(ascii: ".")), (dayMilliseconds % 1000, 3, UInt8(ascii: "Z")),
            ]
            return String(unsafeUninitializedCapacity: 24) { bytes in
                var end = 0
                for field in fields {
                    var value = field.value
                    for offset in stride(from: field.width - 1, through: 0, by: -1) {
                        bytes[end + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                        value /= 10
                    }
                    end += field.width
                    bytes[end] = field.after
                    end += 1
                }
                return end
            }
        }
        let text =
            pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(seconds / 3600, 2) + ":"
            + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2) + "." + pad(dayMilliseconds % 1000, 3)
        return text + "Z"
    }

    /// Milliseconds since the epoch for `YYYY-MM-DDTHH:MM:SS`, optionally with a fraction
    /// (any number of digits; beyond milliseconds it is cut off), then `Z` or an offset
    /// `+hh:mm` / `-hh:mm` (or `+hhmm`). `t` and `z` may be lower case. Out-of-range fields
    /// (month 13, February 30, hour 24, second 60) give nil.
    public static func parse(_ text: String) -> Int64? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(4), scanner.take("-"), let month = scanner.number(2),
            scanner.take("-"), let day = scanner.number(2), scanner.take("T") || scanner.take("t"),
            let hour = scanner.number(2), scanner.take(":"), let minute = scanner.number(2),
            scanner.take(":"), let second = scanner.number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24,
            minute < 60, second < 60
        else { return nil }
        var fraction: Int64 = 0
        if scanner.take(".") {
            var digitCount = 0
            while let digit = scanner.digit() {
                if digitCount < 3 { fraction = fraction * 10 + digit }
                digitCount += 1
            }
            guard digitCount > 0 else { return nil }
            for _ in digitCount..<max(digitCount, 3) { fraction *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if scanner.take("Z") || scanner.take("z") {
            offsetMinutes = 0
        } else if let sign: Int64 = scanner.take("+") ? 1 : scanner.take("-") ? -1 : nil {
            guard let hours = scanner.number(2) else { return nil }
            _ = scanner.take(":")
            guard let minutes = scanner.number(2), hours < 24, minutes < 60 else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
        } else {
            return nil
        }
        guard scanner.atEnd else { return nil }
        let days = days(fromCivil: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1000 + fraction
    }

    // MARK: Calendar arithmetic (days since 1970-01-01, proleptic Gregorian)

    static func days(fromCivil year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = (month + 9) % 12
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let sign = value < 0 ? "-" : ""
        return sign + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Reads fixed-width digit fields and literal characters from ASCII bytes.
private struct DigitScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(character.value) else { return false }
        index += 1
        return true
    }

    mutating func digit() -> Int64? {
        guard index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
        index += 1
        return Int64(bytes[index - 1] - 0x30)
    }

    mutating func number(_ width: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<width {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }
}
