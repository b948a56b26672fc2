import SwarmProtocol
import SwarmSystem

/// The daemon's log: one line per message on stderr, with a time and a level, as text or as
/// JSON lines (`--log-format json`).
public struct Logger: Sendable {
    public enum Format: String, Sendable { case text, json }
    public enum Level: String, Sendable { case debug, info, warning, error }

    public var format: Format
    public var verbose: Bool
    /// Only warnings and errors.
    public var quiet: Bool

    public init(format: Format = .text, verbose: Bool = false, quiet: Bool = false) {
        self.format = format
        self.verbose = verbose
        self.quiet = quiet
    }

    public func debug(_ message: @autoclosure () -> String) {
        if verbose { write(.debug, message()) }
    }
    public func info(_ message: String) {
        if !quiet { write(.info, message) }
    }
    public func warning(_ message: String) { write(.warning, message) }
    public func error(_ message: String) { write(.error, message) }

    private func write(_ level: Level, _ message: String) {
        let time = Timestamp.iso8601(milliseconds: Clock.wallMilliseconds())
        let line: String
        switch format {
        case .text:
            line = "\(time) \(level.rawValue) \(message)\n"
        case .json:
            var object = JSONObject()
            object["time"] = .string(time)
            object["level"] = .string(level.rawValue)
            object["message"] = .string(message)
            line = JSON.encode(.object(object), pretty: false, sortKeys: false)
                .trimmingTrailingNewlines() + "\n"
        }
        StandardStreams.write(2, line)
    }
}
