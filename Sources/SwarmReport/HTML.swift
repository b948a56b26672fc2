import SwarmProtocol

/// Small helpers for writing HTML and SVG text: escaping and number formats.
enum HTML {
    /// `text` safe inside an element or a quoted attribute: every `&`, `<`, `>`, `"` and `'`
    /// escaped, and control characters (other than tab and newline) dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, as SVG wants it.
    static func number(_ value: Double) -> String {
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    /// `12345678` as `12,345,678`.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// US dollars: cents, or four decimals below a cent.
    static func dollars(_ value: Double) -> String {
        guard value.isFinite, value > 0 else { return "$0" }
        let places = value < 0.01 ? 4 : 2
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let units = Int64((value * scale).rounded())
        let whole = units / Int64(scale)
        var fraction = String(units % Int64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        return "$\(grouped(whole)).\(fraction)"
    }

    /// A length of time in words a person reads at a glance: `850ms`, `2.5s`, `4m05s`, `10m`,
    /// `2h10m`, `1h`.
    static func duration(_ millis: Int64) -> String {
        let ms = max(0, millis)
        if ms < 1_000 { return "\(ms)ms" }
        if ms < 60_000 {
            let tenths = (ms + 50) / 100
            return tenths % 10 == 0 || ms >= 10_000
                ? "\((ms + 500) / 1000)s" : "\(tenths / 10).\(tenths % 10)s"
        }
        let seconds = (ms + 500) / 1000
        if seconds < 3_600 { return "\(seconds / 60)m" + (seconds % 60 == 0 ? "" : pad(seconds % 60) + "s") }
        let minutes = (seconds + 30) / 60
        return "\(minutes / 60)h" + (minutes % 60 == 0 ? "" : pad(minutes % 60) + "m")
    }

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `2026-11-24 12:00:00Z`: the ISO-8601 time cut to seconds, for people.
    static func clock(_ millis: Int64) -> String {
        let iso = Timestamp.iso8601(milliseconds: millis)
        return String(iso.prefix(19)).replacingFirst("T", with: " ") + "Z"
    }
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}
