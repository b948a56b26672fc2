/// Sizes as people write them in swarm.json: `512KB`, `16MB`, `1GB`, or a plain byte count.
/// The units are binary: a KB is 1024 bytes, an MB 1024 KB, and so on.
public enum SizeText {
    /// The units, largest first, with their length in bytes.
    static let units: [(suffix: String, bytes: Int64)] = [
        ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1),
    ]

    /// Bytes for a whole number, alone or followed by a unit (`B`, `KB`, `MB`, `GB`, `TB`,
    /// upper case), e.g. `16MB` -> 16777216 and `4096` -> 4096. Surrounding whitespace is
    /// ignored. A fraction, a sign, a space before the unit, another unit or a value past
    /// `Int64` gives nil.
    public static func parse(_ text: String) -> Int64? {
        let text = text.trimmed
        let unitStart = text.firstIndex(where: { !$0.isASCIIDigit }) ?? text.endIndex
        let digits = String(text[..<unitStart])
        let suffix = String(text[unitStart...])
        guard digits.isDigits, let count = Int64(digits) else { return nil }
        if suffix.isEmpty { return count }
        guard let unit = units.first(where: { $0.suffix == suffix }) else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: unit.bytes)
        return overflow ? nil : product
    }

    /// The shortest exact text for `bytes`, in the largest unit that divides it: 16777216
    /// -> `16MB`, 2048 -> `2KB`; a count no unit divides is a plain number (1536 -> `1536`),
    /// and so is 0.
    public static func format(_ bytes: Int64) -> String {
        guard bytes != 0, let unit = units.dropLast().first(where: { bytes % $0.bytes == 0 }) else {
            return "\(bytes)"
        }
        return "\(bytes / unit.bytes)\(unit.suffix)"
    }
}
