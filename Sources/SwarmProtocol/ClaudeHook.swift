/// The hook calls of Claude Code that deliver messages, as Claude Code 2.1.330 makes them
/// (recorded in Tests/SwarmProtocolTests/Fixtures/claude-2.1.330/hooks/): a JSON object on
/// the hook command's standard input, and on its standard output the JSON that tells the CLI
/// what to do.
public enum ClaudeHook {
    /// The events `swarm messages --hook` answers.
    public enum Event: String, Sendable, Equatable {
        /// After each tool call: new messages go in as added context.
        case postToolUse = "PostToolUse"
        /// The agent is about to stop: with messages unread, it is sent back to read them.
        case stop = "Stop"
    }

    /// One call of the hook, read from its standard input.
    public struct Call: Sendable, Equatable {
        /// Which event called it.
        public var event: Event
        /// The CLI's session id, when it gave one.
        public var sessionID: String?
        /// Stop only: true when the agent already went on once because of a Stop hook.
        public var stopHookActive: Bool

        /// Makes a call.
        public init(event: Event, sessionID: String? = nil, stopHookActive: Bool = false) {
            self.event = event
            self.sessionID = sessionID
            self.stopHookActive = stopHookActive
        }
    }

    /// The largest standard input a hook call is read from (a PostToolUse call carries the
    /// tool's whole output).
    public static let inputLimit = 16 << 20

    /// Reads a hook call; nil for anything that is not a call of an event answered here (the
    /// hook then prints nothing and the agent goes on as if there were none).
    public static func parse(_ bytes: [UInt8]) -> Call? {
        guard let value = try? JSON.parse(bytes), let object = value.objectValue,
            let name = object["hook_event_name"]?.stringValue, let event = Event(rawValue: name)
        else { return nil }
        return Call(
            event: event, sessionID: object["session_id"]?.stringValue,
            stopHookActive: object["stop_hook_active"]?.boolValue ?? false)
    }

    /// What the hook prints to hand `text` to the agent at `event`: for PostToolUse, added
    /// context (`hookSpecificOutput.additionalContext`); for Stop, a block with the text as
    /// its reason, which the CLI gives the model as the next thing to act on.
    public static func output(_ event: Event, text: String) -> String {
        var object = JSONObject()
        switch event {
        case .postToolUse:
            var specific = JSONObject()
            specific["hookEventName"] = .string(event.rawValue)
            specific["additionalContext"] = .string(text)
            object["hookSpecificOutput"] = .object(specific)
        case .stop:
            object["decision"] = .string("block")
            object["reason"] = .string(text)
        }
        return JSON.encode(.object(object), pretty: false, sortKeys: true)
    }

    /// The settings a run of a `messages: hooks` template gets through `--settings FILE`:
    /// PostToolUse (every tool) and Stop hooks that run `command`, each with `timeout`
    /// seconds.
    public static func settings(command: String, timeout: Int) -> String {
        func hook() -> JSONValue {
            var entry = JSONObject()
            entry["type"] = .string("command")
            entry["command"] = .string(command)
            entry["timeout"] = .integer(Int64(timeout))
            return .array([.object(entry)])
        }
        var post = JSONObject()
        post["matcher"] = .string("*")
        post["hooks"] = hook()
        var stop = JSONObject()
        stop["hooks"] = hook()
        var hooks = JSONObject()
        hooks["PostToolUse"] = .array([.object(post)])
        hooks["Stop"] = .array([.object(stop)])
        var settings = JSONObject()
        settings["hooks"] = .object(hooks)
        return JSON.encode(.object(settings), pretty: true, sortKeys: true) + "\n"
    }
}
