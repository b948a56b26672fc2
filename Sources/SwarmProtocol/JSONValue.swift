/// A JSON value.
///
/// Numbers come in two cases: a literal without fraction or exponent that fits in 64 bits is
/// `.integer`, every other number is `.number`. So `3` and `3.0` are different values
/// (`.integer(3)` and `.number(3)`), and both survive an encode/parse round trip as written.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer literal (`42`, `-7`) that fits in `Int64`.
    case integer(Int64)
    /// Any other number (`1.5`, `1e3`, `3.0`, or an integer too big for `Int64`).
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object: unique keys, kept in insertion order (the order of the file when parsed).
///
/// Equality ignores order: two objects are equal when they hold the same keys with equal
/// values. Setting an existing key replaces its value in place.
public struct JSONObject: Sendable, Equatable {
    /// The members in insertion order.
    public private(set) var entries: [(key: String, value: JSONValue)] = []
    /// The position of every key, kept only while there are more than `searchedInOrder`
    /// members: a small object is searched in order, which costs less than hashing its keys.
    /// 32 keeps a meta.json record (about 30 members, short keys) in the searched range: the
    /// runtime builds one for every change of every agent, and hashing its keys into an
    /// index took a third of the building.
    private var positions: [String: Int] = [:]
    private static let searchedInOrder = 32

    /// An empty object.
    public init() {}

    /// An object from `entries` in order; a repeated key keeps its first position and its
    /// last value.
    public init(_ entries: [(key: String, value: JSONValue)]) {
        self.entries.reserveCapacity(entries.count)
        for entry in entries { self[entry.key] = entry.value }
    }

    /// The keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    /// The number of members.
    public var count: Int { entries.count }

    /// True when the object has no members.
    public var isEmpty: Bool { entries.isEmpty }

    /// The value for `key`; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { entries[$0].value } }
        set {
            if let position = position(of: key) {
                if let newValue {
                    entries[position].value = newValue
                } else {
                    entries.remove(at: position)
                    index()
                }
            } else if let newValue {
                entries.append((key, newValue))
                if entries.count == Self.searchedInOrder + 1 {
                    index()
                } else if entries.count > Self.searchedInOrder {
                    positions[key] = entries.count - 1
                }
            }
        }
    }

    private func position(of key: String) -> Int? {
        entries.count > Self.searchedInOrder ? positions[key] : entries.firstIndex { $0.key == key }
    }

    /// Builds `positions` again from the members (or drops it for a small object).
    private mutating func index() {
        positions = [:]
        guard entries.count > Self.searchedInOrder else { return }
        positions.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() { positions[entry.key] = position }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.entries.allSatisfy { rhs[$0.key] == $0.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONValue {
    /// The text of a `.string`.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value of an `.integer`, or of a `.number` that is whole and fits in `Int64`.
    public var intValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .number(let value):
            // A range check and a truncating conversion, rather than `rounded()`, which
            // would pull in libm.
            guard value >= -9.223_372_036_854_775_808e18, value < 9.223_372_036_854_775_808e18 else {
                return nil
            }
            let whole = Int64(value)
            return Double(whole) == value ? whole : nil
        default: return nil
        }
    }

    /// The value of a `.number` or an `.integer`.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    /// The value of a `.bool`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The members of an `.object`.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The elements of an `.array`.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// True for `.null`.
    public var isNull: Bool { self == .null }

    /// The member `key` of an object; nil when absent or when this is not an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The element at `index` of an array; nil when out of range or when this is not an array.
    public subscript(index: Int) -> JSONValue? {
        guard let elements = arrayValue, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The name of the value's type as messages and contracts use it: `null`, `boolean`,
    /// `integer`, `number`, `string`, `array`, `object`.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Scalars as plain text (strings unquoted, numbers as JSON writes them, `true`/`false`,
    /// `null` as the empty string); arrays and objects as compact JSON.
    public var plainText: String {
        switch self {
        case .null: return ""
        case .string(let text): return text
        default: return JSON.encode(self, pretty: false, sortKeys: false)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}
