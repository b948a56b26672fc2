import SwarmProtocol
import Testing

@Test(
    arguments: [
        ("0", .integer(0)), ("-0", .integer(0)), ("42", .integer(42)), ("-7", .integer(-7)),
        ("9223372036854775807", .integer(Int64.max)), ("-9223372036854775808", .integer(Int64.min)),
        ("9223372036854775808", .number(9_223_372_036_854_775_808)), ("1.5", .number(1.5)),
        ("3.0", .number(3)),
        ("1e3", .number(1000)), ("1E+3", .number(1000)), ("2.5e-3", .number(0.0025)), ("-0.0", .number(-0.0)),
        ("true", .bool(true)), ("false", .bool(false)), ("null", .null), ("\"\"", .string("")),
        ("\"a\\\"b\\\\c\\/d\"", .string("a\"b\\c/d")), ("\"\\b\\f\\n\\r\\t\"", .string("\u{08}\u{0C}\n\r\t")),
        ("\"\\u0041\\u00e9\\u4e2D\"", .string("Aé中")), ("\"\\ud83d\\ude00\"", .string("😀")),
        ("\"\\u0000\"", .string("\u{0}")),
        ("\"héllo 😀\"", .string("héllo 😀")), (" \t\r\n[ ] ", .array([])), ("{}", .object([:])),
        ("[1, \"a\", null, [true]]", .array([1, "a", nil, [true]])),
        ("{\"a\": {\"b\": [1.25]}, \"c\": \"d\"}", .object(["a": ["b": [1.25]], "c": "d"])),
        ("\u{FEFF}{\"bom\": 1}", .object(["bom": 1])),
    ] as [(String, JSONValue)])
func parsesConformingJSON(_ text: String, _ expected: JSONValue) throws {
    #expect(try JSON.parse(utf8(text)) == expected)
}

/// Malformed documents: the line, the column (as text in the message) or another fragment.
private let malformedJSON: [Rejection] = [
    Rejection("empty", "", line: 1, "empty"),
    Rejection("whitespace only", " \n ", line: 2, "empty"),
    Rejection(
        "trailing garbage", "{\"a\": 1} x", line: 1, "'x' after the end of the JSON value at column 10"),
    Rejection("two documents", "1\n2", line: 2, "after the end"),
    Rejection("trailing comma in object", "{\"a\": 1,}", line: 1, "remove the comma before '}'"),
    Rejection("trailing comma in array", "[1,\n 2,\n]", line: 3, "remove the comma before ']'"),
    Rejection(
        "missing comma", "{\"a\": 1\n \"b\": 2}", line: 2,
        "expected ',' or '}' after the value of \"a\", found '\"' at column 2"),
    Rejection("missing colon", "{\"a\" 1}", line: 1, "expected ':'"),
    Rejection("unquoted key", "{a: 1}", line: 1, "object keys are strings"),
    Rejection("single quotes", "['a']", line: 1, "double quotes"),
    Rejection("leading zero", "[01]", line: 1, "leading zeros"),
    Rejection("bare minus", "-", line: 1, "digit after '-'"),
    Rejection("dot without digits", "1.", line: 1, "decimal point"),
    Rejection("leading dot", ".5", line: 1, "unexpected '.'"),
    Rejection("plus sign", "+1", line: 1, "unexpected '+'"),
    Rejection("empty exponent", "1e", line: 1, "exponent"),
    Rejection("hex number", "0x10", line: 1, "after the end"),
    Rejection("NaN", "NaN", line: 1, "unexpected 'N'"),
    Rejection("Infinity", "[-Infinity]", line: 1, "digit after '-'"),
    Rejection("out of range", "1e400", line: 1, "out of range"),
    Rejection("misspelt literal", "[tru]", line: 1, "unexpected word \"tru\""),
    Rejection("capital True", "True", line: 1, "unexpected 'T'"),
    Rejection("unterminated string", "{\"a\": \"b", line: 1, "ends early"),
    Rejection("unterminated array", "[1, 2", line: 1, "ends early"),
    Rejection("unterminated object", "{\n\"a\": 1,\n", line: 3, "ends early"),
    Rejection("raw newline in string", "[\"a\nb\"]", line: 1, "as \\n"),
    Rejection("raw tab in string", "\"a\tb\"", line: 1, "control character U+0009"),
    Rejection("bad escape", "\"\\x41\"", line: 1, "invalid escape 'x'"),
    Rejection("short unicode escape", "\"\\u12\"", line: 1, "four hex digits"),
    Rejection(
        "lone high surrogate", "\"\\ud83d\"", line: 1, "lone high surrogate \\uD83D in a string at column 2"),
    Rejection("high surrogate then text", "\"\\ud83dx\"", line: 1, "lone high surrogate"),
    Rejection(
        "lone low surrogate", "\"ab\\ude00\"", line: 1, "lone low surrogate \\uDE00 in a string at column 4"),
    Rejection("two high surrogates", "\"\\ud83d\\ud83d\"", line: 1, "not followed by a low surrogate"),
    Rejection("comment", "// c\n{}", line: 1, "no comments"),
    Rejection("duplicate key", "{\"a\": 1,\n \"a\": 2}", line: 2, "duplicate key \"a\" (first at line 1)"),
    Rejection("control character outside", "\u{01}", line: 1, "U+0001"),
    Rejection("non-ASCII column", "{\"é\": 1 ü}", line: 1, "found U+00FC at column 9"),
    Rejection(
        "invalid UTF-8", bytes: utf8("{\n\"a\": \"") + [0xC3, 0x28] + utf8("\"}"), line: 2,
        "invalid UTF-8 at byte offset 8"),
    Rejection("NUL byte", bytes: [0x5B, 0x00, 0x5D], line: 1, "U+0000"),
]

@Test(arguments: malformedJSON)
func rejectsMalformedJSON(_ row: Rejection) throws {
    let error = try #require(failure { () throws(ProtocolError) in try JSON.parse(row.bytes) })
    #expect(error.line == row.line, "\(error)")
    #expect(error.description.contains(row.fragment), "\(error)")
}

@Test func limitsNestingDepth() throws {
    let deep = { (n: Int) in utf8(String(repeating: "[", count: n) + String(repeating: "]", count: n)) }
    #expect(throws: Never.self) { try JSON.parse(deep(64)) }
    let error = try #require(failure { () throws(ProtocolError) in try JSON.parse(deep(65)) })
    #expect(error.message.contains("deeper than 64"))
    #expect(
        failure { () throws(ProtocolError) in try JSON.parse(utf8("{\"a\": {\"b\": {}}}"), maxDepth: 2) }
            != nil)
    #expect(failure { () throws(ProtocolError) in try JSON.parse(deep(100_000)) } != nil)
}

@Test func recordsTheLineOfEveryKey() throws {
    let text = """
        {
          "maxSlots": 4,
          "upstreams": [
            {
              "name": "primary",
              "env": {"A": "1"}
            },
            {"name": "b"}
          ]
        }
        """
    let (value, lines) = try JSON.parseWithLines(utf8(text))
    #expect(value["maxSlots"] == 4)
    #expect(lines[""] == 1)
    #expect(lines["maxSlots"] == 2)
    #expect(lines["upstreams"] == 3)
    #expect(lines["upstreams[0]"] == 4)
    #expect(lines["upstreams[0].name"] == 5)
    #expect(lines["upstreams[0].env.A"] == 6)
    #expect(lines["upstreams[1].name"] == 8)
}

@Test func encodesPrettySortedAndStable() {
    let value: JSONValue = [
        "zeta": [1, 2.5, "x"], "alpha": ["b": true, "a": nil], "empty": [], "none": [:],
        "big": .integer(Int64.max),
    ]
    let expected = """
        {
          "alpha": {
            "a": null,
            "b": true
          },
          "big": 9223372036854775807,
          "empty": [],
          "none": {},
          "zeta": [
            1,
            2.5,
            "x"
          ]
        }

        """
    #expect(JSON.encode(value) == expected)
    #expect(
        JSON.encode(value, pretty: false)
            == #"{"alpha":{"a":null,"b":true},"big":9223372036854775807,"empty":[],"none":{},"zeta":[1,2.5,"x"]}"#
    )
    #expect(
        JSON.encode(value, pretty: false, sortKeys: false).hasPrefix(
            #"{"zeta":[1,2.5,"x"],"alpha":{"b":true,"a":null}"#))
    var reordered = JSONObject()
    for key in ["none", "big", "zeta", "empty", "alpha"] { reordered[key] = value[key] }
    #expect(JSON.encode(.object(reordered)) == expected)
}

@Test func sortsKeysByTheirUTF8Bytes() {
    // "e\u{301}" (e and a combining accent) sorts before "f" by its bytes, though Swift's own
    // comparison, which normalizes, puts it after; "~" comes before every multi-byte key
    var object = JSONObject()
    for key in ["f", "e\u{301}", "\u{1F600}", "ab", "~", "a", "Z", ""] { object[key] = .bool(true) }
    let keys = ["", "Z", "a", "ab", "e\u{301}", "f", "~", "\u{1F600}"]
    let expected = "{" + keys.map { JSON.quote($0) + ":true" }.joined(separator: ",") + "}"
    #expect(JSON.encode(.object(object), pretty: false) == expected)
}

@Test(arguments: [
    ("a\"b\\c", #""a\"b\\c""#), ("line\nbreak\ttab\r", #""line\nbreak\ttab\r""#),
    ("\u{0}\u{1}\u{1F}\u{7F}", #""\u0000\u0001\u001F\u007F""#), ("\u{08}\u{0C}", #""\b\f""#),
    ("é😀/", "\"é😀/\""),
])
func escapesStrings(_ text: String, _ literal: String) throws {
    #expect(JSON.quote(text) == literal)
    #expect(try JSON.parse(utf8(literal)) == .string(text))
}

@Test(
    arguments: [
        .null, true, 0, -1, .integer(Int64.min), 0.1, 3.0, -0.0, 1e-7, 1e300, 123456.789, "",
        "multi\nline \u{1} 😀",
        [[], [:], [[1]]], ["k": ["nested": ["deep": [1, "2", nil]]], "": "empty key", "é": 1.5],
    ] as [JSONValue])
func encodingRoundTrips(_ value: JSONValue) throws {
    for pretty in [true, false] {
        let text = JSON.encode(value, pretty: pretty)
        #expect(try JSON.parse(utf8(text)) == value, "\(text)")
        #expect(JSON.encode(try JSON.parse(utf8(text)), pretty: pretty) == text)
    }
}

@Test func writesNumbersAsJSON() {
    #expect(JSON.encode(12, pretty: false) == "12")
    #expect(JSON.encode(3.0, pretty: false) == "3.0")
    #expect(JSON.encode(.number(.infinity), pretty: false) == "null")
    #expect(JSON.encode(.number(.nan), pretty: false) == "null")
    #expect(JSON.encode(1e20, pretty: false) == "1e+20")
}

@Test func accessorsAndObjects() {
    let value: JSONValue = ["s": "x", "i": 7, "d": 2.0, "b": false, "a": [1], "o": ["k": 1]]
    #expect(value["s"]?.stringValue == "x")
    #expect(value["i"]?.intValue == 7 && value["d"]?.intValue == 2 && value["i"]?.doubleValue == 7)
    #expect(JSONValue.number(2.5).intValue == nil && JSONValue.number(1e30).intValue == nil)
    #expect(value["b"]?.boolValue == false)
    #expect(value["a"]?[0] == 1 && value["a"]?[1] == nil)
    #expect(value["o"]?.objectValue?.keys == ["k"])
    #expect(value["missing"] == nil && value[0] == nil)
    #expect(
        value["a"]?.typeName == "array" && value["d"]?.typeName == "number"
            && value["i"]?.typeName == "integer")
    var object: JSONObject = ["a": 1, "b": 2, "c": 3]
    object["b"] = nil
    object["a"] = 9
    object["d"] = 4
    #expect(object.keys == ["a", "c", "d"] && object["c"] == 3 && object["a"] == 9)
    #expect(object == ["d": 4, "c": 3, "a": 9])
    #expect(object != ["d": 4, "c": 3])
}

@Test func largeObjectsFindEveryKeyAcrossRemovals() {
    var object = JSONObject()
    for n in 0..<40 { object["k\(n)"] = .integer(Int64(n)) }
    object["k3"] = nil
    object["k30"] = nil
    object["k7"] = .integer(700)
    #expect(object.count == 38 && object["k3"] == nil && object["k30"] == nil && object["k7"] == 700)
    for n in 0..<40 where n != 3 && n != 30 && n != 7 { #expect(object["k\(n)"] == .integer(Int64(n))) }
    for n in 0..<30 { object["k\(n)"] = nil }
    #expect(object.keys == (31..<40).map { "k\($0)" } && object["k35"] == 35)
    object["k0"] = 1
    #expect(object.keys.last == "k0" && object["k0"] == 1)
}
