/// The shape a template requires of results.json, written as one line of JSON whose leaves
/// are type names:
///
///     {"summary": "string", "files": ["string"], "stats": {"lines": "integer"}, "notes?": "string"}
///
/// Types: `string`, `number`, `integer`, `boolean`, `object`, `array`, `null`, `any`;
/// `["T"]` is an array of T; `{...}` a nested object (at most three levels below the top).
/// A key ending in `?` is optional. Keys the contract does not name are allowed.
///
/// Every result may carry `status` (`"ok"` or `"error"`, default ok); an error result
/// (`status: "error"`) need not carry the contract's keys, only `error` and `error_kind`,
/// which must be strings when present.
public struct ResultContract: Sendable, Equatable {
    /// The contract as written (trimmed).
    public let text: String
    /// The members the top-level object must have.
    let members: [Member]

    /// One required or optional key of an object shape.
    struct Member: Sendable, Equatable {
        var key: String
        var optional: Bool
        var shape: Shape
    }

    /// What a value must look like.
    indirect enum Shape: Sendable, Equatable {
        case type(String)
        case array(of: Shape)
        case object([Member])
    }

    /// The type names a contract may use.
    public static let typeNames = [
        "string", "number", "integer", "boolean", "object", "array", "null", "any",
    ]

    /// The contract that asks nothing beyond "a JSON object" and a valid `status`.
    public static let empty = ResultContract(text: "{}", members: [])

    /// Reads a contract. Errors say what is wrong and where, by path (`$.stats.lines`).
    public static func parse(_ text: String) throws(ProtocolError) -> ResultContract {
        let trimmed = text.trimmed
        let value: JSONValue
        do {
            value = try JSON.parse(Array(trimmed.utf8), maxDepth: 16)
        } catch {
            throw ProtocolError(
                line: nil, "the contract is not valid JSON: \(error.message)",
                hint: "write it as one JSON object, e.g. {\"summary\": \"string\"}")
        }
        guard case .object(let object) = value else {
            throw ProtocolError(
                line: nil, "the contract must be a JSON object, not \(value.typeName)",
                hint: "write e.g. {\"summary\": \"string\"}")
        }
        return ResultContract(text: trimmed, members: try members(of: object, path: "$", level: 0))
    }

    private static func members(of object: JSONObject, path: String, level: Int) throws(ProtocolError)
        -> [Member]
    {
        var members: [Member] = []
        for entry in object.entries {
            let optional = entry.key.hasSuffix("?")
            let key = optional ? String(entry.key.dropLast()) : entry.key
            let childPath = path + "." + key
            members.append(
                Member(
                    key: key, optional: optional,
                    shape: try shape(of: entry.value, path: childPath, level: level)))
        }
        return members
    }

    private static func shape(of value: JSONValue, path: String, level: Int) throws(ProtocolError) -> Shape {
        switch value {
        case .string(let name):
            guard typeNames.contains(name) else {
                let near =
                    Suggestion.closest(to: name, among: typeNames).map { "did you mean \"\($0)\"? " } ?? ""
                throw ProtocolError(
                    line: nil, "the contract gives \(path) the unknown type \(Quote.show(name))",
                    hint: near + "types: " + typeNames.joined(separator: ", "))
            }
            return .type(name)
        case .array(let elements):
            guard elements.count == 1 else {
                throw ProtocolError(
                    line: nil, "the contract's array at \(path) must hold exactly one element type",
                    hint: "write e.g. [\"string\"]")
            }
            return .array(of: try shape(of: elements[0], path: path + "[]", level: level))
        case .object(let object):
            guard level < 3 else {
                throw ProtocolError(
                    line: nil, "the contract nests objects deeper than three levels at \(path)",
                    hint: "use \"object\" for the deeper part")
            }
            return .object(try members(of: object, path: path, level: level + 1))
        default:
            throw ProtocolError(
                line: nil,
                "the contract gives \(path) a value of type \(value.typeName) where a type name is expected",
                hint: "types: " + typeNames.joined(separator: ", "))
        }
    }

    /// Every way `value` breaks the contract, each as `PATH: problem`
    /// (`$.stats.lines: expected integer, got string`, `$.summary: missing (expected
    /// string)`, `$: expected a JSON object, got array`). Empty when the value conforms.
    public func violations(in value: JSONValue) -> [String] {
        guard case .object(let object) = value else {
            return ["$: expected a JSON object, got \(value.typeName)"]
        }
        var found: [String] = []
        var isError = false
        if let status = object["status"] {
            if status == .string("error") {
                isError = true
            } else if status != .string("ok") {
                found.append("$.status: expected \"ok\" or \"error\", got \(describe(status))")
            }
        }
        for key in ["error", "error_kind"] {
            if let detail = object[key], detail.stringValue == nil, !detail.isNull {
                found.append("$.\(key): expected string, got \(detail.typeName)")
            }
        }
        if !isError {
            check(object, against: members.filter { $0.key != "status" }, path: "$", into: &found)
        }
        return found
    }

    private func check(
        _ object: JSONObject, against members: [Member], path: String, into found: inout [String]
    ) {
        for member in members {
            let childPath = path + "." + member.key
            guard let value = object[member.key] else {
                if !member.optional { found.append("\(childPath): missing (expected \(member.shape.name))") }
                continue
            }
            check(value, against: member.shape, path: childPath, into: &found)
        }
    }

    private func check(_ value: JSONValue, against shape: Shape, path: String, into found: inout [String]) {
        switch shape {
        case .type(let name):
            if !Self.matches(value, type: name) {
                found.append("\(path): expected \(name), got \(value.typeName)")
            }
        case .array(let elementShape):
            guard case .array(let elements) = value else {
                found.append("\(path): expected \(shape.name), got \(value.typeName)")
                return
            }
            for (position, element) in elements.enumerated() {
                check(element, against: elementShape, path: "\(path)[\(position)]", into: &found)
            }
        case .object(let members):
            guard case .object(let object) = value else {
                found.append("\(path): expected object, got \(value.typeName)")
                return
            }
            check(object, against: members, path: path, into: &found)
        }
    }

    /// True when `value` is of the named type; a whole `.number` (`3.0`) counts as integer.
    static func matches(_ value: JSONValue, type name: String) -> Bool {
        switch (name, value) {
        case ("any", _): return true
        case ("string", .string), ("boolean", .bool), ("array", .array), ("object", .object), ("null", .null):
            return true
        case ("number", .integer), ("number", .number), ("integer", .integer): return true
        case ("integer", .number): return value.intValue != nil
        default: return false
        }
    }

    private func describe(_ value: JSONValue) -> String {
        if case .string(let text) = value { return Quote.show(text, limit: 40) }
        return value.typeName
    }
}

extension ResultContract.Shape {
    /// `string`, `array of string`, `object`.
    var name: String {
        switch self {
        case .type(let name): return name
        case .array(let element): return "array of \(element.name)"
        case .object: return "object"
        }
    }
}
