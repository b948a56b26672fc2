import SwarmCore
import SwarmProtocol
import SwarmSystem

/// One agent's `messages/` folder: the messages people sent it and their receipts (see
/// `Message`). Reading never follows a symbolic link, never blocks on a FIFO and never reads
/// more than `Message.sizeLimit` bytes of a file; a message that cannot be read is listed
/// with its problem and skipped when delivering, never in the way of the rest. A `messages`
/// that is not a folder of its own (a symbolic link, say) holds no messages and takes none.
public struct Mailbox: Sendable {
    /// The folder.
    public let folder: String

    /// The mailbox of the agent whose files are `files`.
    public init(_ files: AgentFiles) { folder = files.messages }

    /// One message as found in the folder.
    public struct Entry: Sendable, Equatable {
        /// Its file name.
        public var name: String
        /// When it was sent (the file's modification time), in milliseconds.
        public var sent: Int64
        /// Its text, or why it cannot be delivered.
        public var text: Result<String, MessageProblem>
        /// The agent side's receipt (`NAME.delivered`), if it has one.
        public var delivered: Receipt?
        /// The runtime's receipt (`NAME.briefed`: it went into a brief), if it has one.
        public var briefed: Receipt?

        /// The first of its receipts: when it first reached the agent.
        public var receipt: Receipt? {
            [delivered, briefed].compactMap { $0 }.min { $0.time < $1.time }
        }
    }

    /// Every message in name order (the order `swarm say` sends them in).
    public func entries() -> [Entry] {
        guard FileSystem.status(folder)?.kind == .directory else { return [] }
        let listing = (try? FileSystem.entries(of: folder)) ?? []
        let names = Set(listing.map(\.name))
        var out: [Entry] = []
        for entry in listing.sorted(by: { $0.name < $1.name }) where Message.isMessage(entry.name) {
            let path = folder + "/" + entry.name
            let sent = FileSystem.status(path).map { $0.modifiedNanos / 1_000_000 } ?? 0
            let text: Result<String, MessageProblem>
            do {
                text = Message.text(of: try FileSystem.readFile(path, limit: Message.sizeLimit))
            } catch .tooLarge(let size, _) {
                text = .failure(Message.tooLarge(size))
            } catch {
                text = .failure(
                    MessageProblem("it cannot be read (\(error)); write it as a regular text file"))
            }
            func receipt(_ suffix: String) -> Receipt? {
                names.contains(entry.name + suffix) ? readReceipt(path + suffix) : nil
            }
            out.append(
                Entry(
                    name: entry.name, sent: sent, text: text, delivered: receipt(Message.deliveredSuffix),
                    briefed: receipt(Message.briefedSuffix)))
        }
        return out
    }

    /// The messages not yet delivered whose text can be, in order, with when each was sent.
    /// With `includingBriefed`, also those that went into a brief but were never handed over
    /// by the agent side (`swarm messages`: a brief may be a script that never shows them).
    public func unread(includingBriefed: Bool = false) -> [(name: String, text: String, sent: Int64)] {
        entries().compactMap { entry in
            guard entry.delivered == nil, includingBriefed || entry.briefed == nil,
                case .success(let text) = entry.text
            else { return nil }
            return (entry.name, text, entry.sent)
        }
    }

    /// Where each message stands for an agent whose record is `record`: delivered (with its
    /// receipt), pending, or undeliverable (a file that is not a message, or an agent that
    /// ended before reading it).
    public func statuses(for record: AgentRecord) -> [(entry: Entry, status: MessageStatus)] {
        entries().map { entry in (entry, Self.status(of: entry, for: record)) }
    }

    /// How many messages wait to be read (pending).
    public func pendingCount(for record: AgentRecord) -> Int {
        statuses(for: record).filter { $0.status.word == "pending" }.count
    }

    /// The messages as `swarm status --json` shows them: name, sent (ISO-8601), status
    /// (`delivered`, `pending`, `undeliverable`), and the sentence that says when and how,
    /// or why.
    public func json(for record: AgentRecord) -> JSONValue {
        .array(
            statuses(for: record).map { item in
                var object = JSONObject()
                object["name"] = .string(item.entry.name)
                object["sent"] = .string(Timestamp.iso8601(milliseconds: item.entry.sent))
                object["status"] = .string(item.status.word)
                object["receipt"] = .string(item.status.sentence)
                return .object(object)
            })
    }

    /// The status of one message for an agent whose record is `record`.
    public static func status(of entry: Entry, for record: AgentRecord) -> MessageStatus {
        if let receipt = entry.receipt { return .delivered(receipt) }
        if case .failure(let problem) = entry.text { return .undeliverable(problem.reason) }
        if record.state.isSettled {
            return .undeliverable("the agent ended (\(record.state.rawValue)) before reading it")
        }
        if record.stopping == .stuck {
            return .pending(note: "the agent is being stopped for silence; its retry's brief gets it")
        }
        if record.state == .queued { return .pending(note: "it goes into the brief of the agent's next run") }
        if record.kind == .orchestrator && !record.active {
            return .pending(note: "the orchestrator is woken with `message` to read it")
        }
        return .pending(note: nil)
    }

    /// Writes the receipt the agent side owns (`NAME.delivered`).
    public func markDelivered(_ name: String, _ receipt: Receipt) throws(Errno) {
        try FileSystem.writeAtomically(
            folder + "/" + name + Message.deliveredSuffix, Array(receipt.line.utf8))
    }

    /// Puts `text` in the folder as a new message, atomically, without replacing any file;
    /// returns its name.
    public func post(_ text: String, now: Int64, tieBreaker: String) throws(Errno) -> String {
        try FileSystem.makeDirectory(folder)
        guard FileSystem.status(folder)?.kind == .directory else { throw .notDirectory }
        let body = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
        var attempt = 0
        while true {
            let name = Message.name(sentAt: now, tieBreaker: tieBreaker, sequence: attempt)
            let hidden = folder + "/." + name + ".say"
            try FileSystem.writeAtomically(hidden, body, durable: true)
            do {
                try FileSystem.rename(hidden, to: folder + "/" + name, replace: false)
                return name
            } catch .fileExists {
                try? FileSystem.remove(hidden)
                attempt += 1
            } catch {
                try? FileSystem.remove(hidden)
                throw error
            }
        }
    }

    private func readReceipt(_ path: String) -> Receipt? {
        guard let bytes = try? FileSystem.readFile(path, limit: 4096) else { return nil }
        return Receipt.parse(String(decoding: bytes, as: UTF8.self))
    }
}
