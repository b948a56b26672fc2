import SwarmProtocol
import SwarmSystem

/// A request from the command line to the daemon, dropped into swarm/control/ atomically.
/// Requests wait there while no daemon runs and are carried out when one starts.
public struct ControlRequest: Sendable, Equatable {
    public enum Verb: String, Sendable {
        case kill, retry, ack
        case resetUpstream = "reset-upstream"
    }
    public var verb: Verb
    public var agent: String

    public init(verb: Verb, agent: String) {
        self.verb = verb
        self.agent = agent
    }

    /// Writes the request for the daemon; returns its path.
    public func submit(to workspace: Workspace) throws(SwarmError) -> String {
        let directory = workspace.controlDirectory
        let name = "\(Clock.wallMilliseconds())-\(Processes.currentID)-\(verb.rawValue)-\(agent)"
        do {
            try FileSystem.makeDirectory(directory)
            try FileSystem.writeAtomically(directory + "/" + name, Array("\(verb.rawValue) \(agent)\n".utf8))
        } catch {
            throw SwarmError("cannot write a request into \(directory): \(error)")
        }
        return directory + "/" + name
    }

    /// The request in `path`, or nil when the file is not one. `agent` is the agent id, or the
    /// upstream's name for `reset-upstream`.
    static func read(_ path: String) -> ControlRequest? {
        guard let bytes = try? FileSystem.readFile(path, limit: 4096) else { return nil }
        let words = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard words.count == 2, let verb = Verb(rawValue: String(words[0])),
            ResourceName.problem(with: String(words[1]), what: "name") == nil
        else { return nil }
        return ControlRequest(verb: verb, agent: String(words[1]))
    }
}
