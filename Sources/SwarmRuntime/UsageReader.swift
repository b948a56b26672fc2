import SwarmProtocol
import SwarmSystem

/// What a run reported it used, read when it ends: from its results.json (`usage` with
/// `input_tokens`/`output_tokens`, or `tokens`; `total_cost_usd` or `cost_usd`), else from the
/// result line Claude Code prints with `--output-format json` or `stream-json` (its `usage`
/// and `total_cost_usd`), found in the tail of stdout.log.
enum UsageReader {
    struct Usage: Equatable {
        var tokens: Int64?
        var cost: Double?
    }

    /// The usage of the run whose results.json read as `result` (`ResultReader.read`; the
    /// file is read once per run), else from the last `ResultReader.tailBytes` of `output`,
    /// the tail of its stdout.log (read once per run as well).
    static func usage(of result: Result<JSONValue, SwarmError>?, output: [UInt8]?) -> Usage? {
        if case .success(let value)? = result, let usage = usage(in: value) {
            return usage
        }
        guard let output else { return nil }
        let text = String(decoding: output.suffix(ResultReader.tailBytes), as: UTF8.self)
        for line in text.split(separator: "\n").reversed()
        where line.contains("\"type\":\"result\"") || line.contains("\"type\": \"result\"") {
            if let value = try? JSON.parse(Array(line.utf8)), let usage = usage(in: value) { return usage }
        }
        return nil
    }

    /// The usage fields of one JSON object, if it has any.
    static func usage(in value: JSONValue) -> Usage? {
        var tokens: Int64?
        if let counts = value["usage"]?.objectValue {
            let keys = [
                "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
            ]
            let sum = keys.compactMap { counts[$0]?.intValue }.reduce(0, +)
            tokens = sum > 0 ? sum : counts["total_tokens"]?.intValue
        }
        tokens = tokens ?? value["tokens"]?.intValue
        let cost =
            value["total_cost_usd"]?.doubleValue ?? value["cost_usd"]?.doubleValue
            ?? value["cost"]?.doubleValue
        guard tokens != nil || cost != nil else { return nil }
        return Usage(tokens: tokens, cost: cost)
    }
}
