import SwarmProtocol
import Testing

private let contractText =
    #"{"summary": "string", "files": ["string"], "stats": {"lines": "integer", "ratio?": "number"}, "notes?": "string", "extra": "any"}"#

@Test(
    arguments: [
        (#"{"summary": "done", "files": [], "stats": {"lines": 3}, "extra": null}"#, []),
        (
            #"{"summary": "done", "files": ["a", "b"], "stats": {"lines": 3.0, "ratio": 1}, "notes": "n", "extra": [1], "other": 1}"#,
            []
        ),
        (
            #"{"summary": 1, "files": ["a"], "stats": {"lines": "many"}, "extra": 0}"#,
            ["$.summary: expected string, got integer", "$.stats.lines: expected integer, got string"]
        ),
        (
            #"{"files": "a", "stats": [], "extra": 1}"#,
            [
                "$.summary: missing (expected string)", "$.files: expected array of string, got string",
                "$.stats: expected object, got array",
            ]
        ),
        (
            #"{"summary": "s", "files": ["a", 2, null], "stats": {"lines": 1.5, "ratio": "x"}, "notes": null, "extra": 1}"#,
            [
                "$.files[1]: expected string, got integer", "$.files[2]: expected string, got null",
                "$.stats.lines: expected integer, got number", "$.stats.ratio: expected number, got string",
                "$.notes: expected string, got null",
            ]
        ),
        (
            #"{"summary": "s", "files": [], "stats": {}}"#,
            ["$.stats.lines: missing (expected integer)", "$.extra: missing (expected any)"]
        ),
        (#"[1, 2]"#, ["$: expected a JSON object, got array"]),
        (#""just text""#, ["$: expected a JSON object, got string"]),
        (#"{"status": "error", "error": "upstream 529", "error_kind": "upstream"}"#, []),
        (#"{"status": "error", "error": 5}"#, ["$.error: expected string, got integer"]),
        (
            #"{"status": "maybe", "summary": "s", "files": [], "stats": {"lines": 1}, "extra": 1}"#,
            [#"$.status: expected "ok" or "error", got "maybe""#]
        ),
        (
            #"{"status": "ok", "summary": "s", "files": [], "stats": {"lines": 1}, "extra": 1, "error_kind": null}"#,
            []
        ),
    ] as [(String, [String])])
func checksResultsAgainstTheContract(_ json: String, _ expected: [String]) throws {
    let contract = try ResultContract.parse(contractText)
    #expect(contract.violations(in: try JSON.parse(utf8(json))) == expected)
}

@Test func checksDeeplyNestedShapes() throws {
    let contract = try ResultContract.parse(
        #"{"a": {"b": {"c": {"d": "boolean"}}}, "m": [["integer"]], "o": [{"k": "string", "v?": "null"}]}"#)
    let good = try JSON.parse(
        utf8(
            #"{"a": {"b": {"c": {"d": true}}}, "m": [[1, 2], []], "o": [{"k": "x"}, {"k": "y", "v": null}]}"#)
    )
    #expect(contract.violations(in: good).isEmpty)
    let bad = try JSON.parse(utf8(#"{"a": {"b": {"c": {"d": "yes"}}}, "m": [[1, "2"], 3], "o": [{"v": 1}]}"#))
    #expect(
        contract.violations(in: bad) == [
            "$.a.b.c.d: expected boolean, got string", "$.m[0][1]: expected integer, got string",
            "$.m[1]: expected array of integer, got integer", "$.o[0].k: missing (expected string)",
            "$.o[0].v: expected null, got integer",
        ])
}

@Test func theEmptyContractOnlyAsksForAnObject() throws {
    #expect(ResultContract.empty.violations(in: ["anything": [1, 2]]).isEmpty)
    #expect(ResultContract.empty.violations(in: 5) == ["$: expected a JSON object, got integer"])
    #expect(try ResultContract.parse(" {} ") == .empty)
}

@Test(arguments: [
    ("", "not valid JSON"), ("[\"string\"]", "must be a JSON object"),
    (#"{"a": "text"}"#, "unknown type \"text\""),
    (#"{"a": "strng"}"#, "did you mean \"string\"?"),
    (#"{"a": ["string", "integer"]}"#, "exactly one element type"),
    (#"{"a": []}"#, "exactly one element type"), (#"{"a": 5}"#, "a value of type integer where a type name"),
    (#"{"a": {"b": {"c": {"d": {"e": "string"}}}}}"#, "deeper than three levels at $.a.b.c.d"),
    (#"{"a": "string""#, "not valid JSON"),
])
func rejectsBadContracts(_ text: String, _ fragment: String) throws {
    let error = try #require(failure { () throws(ProtocolError) in try ResultContract.parse(text) })
    #expect(error.description.contains(fragment), "\(error)")
}

@Test func keepsTheContractText() throws {
    #expect(try ResultContract.parse("  \(contractText)\n").text == contractText)
}
