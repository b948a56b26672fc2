/// A message from a person to an agent: one file in `agents/<id>/messages/`, plain UTF-8
/// text of at most `Message.sizeLimit` bytes, written atomically (`swarm say`, or by hand).
///
/// Its receipts are files beside it, one per writer, so that no file has two writers:
/// `NAME.delivered` is written by the agent side (`swarm messages`, its Claude Code hooks)
/// once the text was handed to the agent, and `NAME.briefed` by the runtime once it put the
/// text into the brief of a run. Everything else about a message (pending, undeliverable) is
/// derived from these, from the file itself and from the agent's state, never stored.
public enum Message {
    /// The largest message, in bytes (64 KiB).
    public static let sizeLimit = 64 * 1024
    /// The suffix of the receipt the agent side writes.
    public static let deliveredSuffix = ".delivered"
    /// The suffix of the receipt the runtime writes when the text went into a brief.
    public static let briefedSuffix = ".briefed"

    /// True when `name` in a messages folder is a message: not hidden, not a receipt, not
    /// what an editor leaves behind while it writes.
    public static func isMessage(_ name: String) -> Bool {
        !(name.isEmpty || name.contains("\u{FFFD}") || name.hasPrefix(".") || name.hasSuffix("~")
            || name.hasSuffix(".swp") || name.hasSuffix(".swx") || name.hasSuffix(".tmp")
            || name.hasSuffix(deliveredSuffix) || name.hasSuffix(briefedSuffix)
            || (name.hasPrefix("#") && name.hasSuffix("#")) || name == "4913")
    }

    /// The name `swarm say` gives a message sent at `milliseconds`: the UTC time (so that
    /// names sort in the order they were sent), a tie-breaker (the sender's pid) and a
    /// sequence number for names already taken, e.g. `20261202T070105.123Z-4711-000.md`.
    public static func name(sentAt milliseconds: Int64, tieBreaker: String, sequence: Int = 0) -> String {
        let iso = Timestamp.iso8601(milliseconds: milliseconds)
        let compact = iso.filter { $0 != "-" && $0 != ":" }
        let number = String(sequence)
        return compact + "-" + tieBreaker + "-" + String(repeating: "0", count: max(0, 3 - number.count))
            + number
            + ".md"
    }

    /// The text of a message file's bytes, or why it cannot be delivered (a sentence that
    /// says what to do).
    public static func text(of bytes: [UInt8]) -> Result<String, MessageProblem> {
        guard bytes.count <= sizeLimit else { return .failure(tooLarge(Int64(bytes.count))) }
        let text: String
        do {
            text = try TextDecoding.decode(bytes)
        } catch {
            return .failure(
                MessageProblem("it is not text: \(error.message); \(error.hint ?? "save it as UTF-8")"))
        }
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else {
            return .failure(MessageProblem("it is empty; write the message's text in it"))
        }
        return .success(trimmed)
    }

    /// The problem of a message of `size` bytes, over the limit.
    public static func tooLarge(_ size: Int64) -> MessageProblem {
        MessageProblem(
            "it holds \(size) bytes, over the limit of \(sizeLimit) (64 KiB); send a shorter message that names "
                + "a file with the rest")
    }
}

/// Why a message file cannot be delivered.
public struct MessageProblem: Error, Sendable, Equatable {
    /// What is wrong with the file and what to do.
    public var reason: String
    /// Makes the problem.
    public init(_ reason: String) { self.reason = reason }
}

/// How a message reached its agent, as its receipt records it.
public enum DeliveryChannel: Sendable, Equatable {
    /// `swarm messages`, run by the agent.
    case command
    /// The Claude Code PostToolUse hook: added context after a tool call.
    case toolHook
    /// The Claude Code Stop hook: it sent the agent back to read it.
    case stopHook
    /// The brief (task.md) of the agent's run number `run`.
    case brief(run: Int)

    /// The words of the receipt.
    public var words: String {
        switch self {
        case .command: "swarm messages"
        case .toolHook: "the PostToolUse hook"
        case .stopHook: "the Stop hook"
        case .brief(let run): "the brief of run \(run)"
        }
    }

    init?(words: String) {
        switch words {
        case "swarm messages": self = .command
        case "the PostToolUse hook": self = .toolHook
        case "the Stop hook": self = .stopHook
        default:
            let prefix = "the brief of run "
            guard words.hasPrefix(prefix), let run = Int(words.dropFirst(prefix.count)) else { return nil }
            self = .brief(run: run)
        }
    }
}

/// A message's receipt: when and how it was delivered. Written as one line a person reads,
/// `delivered 2026-12-02T07:01:05.412Z by swarm messages`.
public struct Receipt: Sendable, Equatable {
    /// When it was delivered, in milliseconds since the Unix epoch.
    public var time: Int64
    /// How.
    public var channel: DeliveryChannel

    /// Makes a receipt.
    public init(time: Int64, channel: DeliveryChannel) {
        self.time = time
        self.channel = channel
    }

    /// The receipt's line, with its newline.
    public var line: String { "delivered \(Timestamp.iso8601(milliseconds: time)) by \(channel.words)\n" }

    /// Reads a receipt's line; nil for anything else.
    public static func parse(_ text: String) -> Receipt? {
        let line = text.trimmingWhitespace()
        let words = line.split(separator: " ", maxSplits: 3).map(String.init)
        guard words.count == 4, words[0] == "delivered", words[2] == "by",
            let time = Timestamp.parse(words[1]), let channel = DeliveryChannel(words: words[3])
        else { return nil }
        return Receipt(time: time, channel: channel)
    }
}

/// Where a message stands, derived from its file, its receipts and its agent.
public enum MessageStatus: Sendable, Equatable {
    /// Handed to the agent (the receipt says when and how).
    case delivered(Receipt)
    /// Not yet read; `note` says when it will be, when that is not simply "soon".
    case pending(note: String?)
    /// It never will be, and why.
    case undeliverable(String)

    /// `delivered`, `pending` or `undeliverable`.
    public var word: String {
        switch self {
        case .delivered: "delivered"
        case .pending: "pending"
        case .undeliverable: "undeliverable"
        }
    }

    /// One line for a person: the word, then when and how, or why.
    public var sentence: String {
        switch self {
        case .delivered(let receipt):
            "delivered \(Timestamp.iso8601(milliseconds: receipt.time)) by \(receipt.channel.words)"
        case .pending(let note): note.map { "pending: " + $0 } ?? "pending"
        case .undeliverable(let why): "undeliverable: " + why
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
