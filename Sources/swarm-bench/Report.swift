import SwarmProtocol
import SwarmSystem

/// The benchmark's table and JSON.
enum Report {
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let scaled = Int64((value * 100).rounded())
        let whole = scaled / 100
        let fraction = abs(scaled % 100)
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func table(_ figures: [Figure], quick: Bool) -> String {
        let width = max(20, figures.map(\.name.count).max() ?? 20)
        var out = "swarm-bench\(quick ? " --quick" : "")\n"
        out += "figure".padded(width) + "  " + "value".padded(12) + "  " + "target".padded(8) + "  met\n"
        for f in figures {
            let met = f.met.map { $0 ? "yes" : "NO" } ?? ""
            out += f.name.padded(width) + "  " + (format(f.value) + " " + f.unit).padded(12) + "  " + f.target.padded(8) + "  " + met + "\n"
        }
        return out
    }

    static func json(_ figures: [Figure], quick: Bool) -> String {
        let list: [JSONValue] = figures.map { f in
            var o = JSONObject()
            o["name"] = .string(f.name)
            o["value"] = f.value.isFinite ? .number(f.value) : .null
            o["unit"] = .string(f.unit)
            o["target"] = .string(f.target)
            o["met"] = f.met.map { .bool($0) } ?? .null
            return .object(o)
        }
        var root = JSONObject()
        root["quick"] = .bool(quick)
        root["measured"] = .string(Timestamp.iso8601(milliseconds: Clock.wallMilliseconds()))
        root["figures"] = .array(list)
        return JSON.encode(.object(root), pretty: true, sortKeys: false)
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
