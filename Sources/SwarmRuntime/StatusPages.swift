import SwarmCore
import SwarmProtocol
import SwarmSystem

/// The upstreams' status pages: each page (one URL, whatever the number of upstreams naming
/// it) is fetched by a `curl` child process the loop never waits for, at most once per
/// `statusPoll`. Its end is seen through its pidfd in epoll (or at the next loop turn); the
/// body lands in `swarm/status-pages/NAME.json` (NAME: the first upstream naming the URL).
/// Whatever goes wrong (no curl, a timeout, an HTTP error, a body that is not a summary.json)
/// is a reading of `unknown` with the reason: evidence of nothing.
struct StatusPages {
    /// One page and the upstreams that read it.
    struct Page {
        var url: String
        /// The upstreams naming this URL, each with the components it depends on.
        var readers: [(upstream: String, components: [String])]
        var due: Millis
        var fetch: Fetch?
    }

    /// One running `curl`.
    final class Fetch {
        let pid: Int32
        let startedAt: Millis
        /// When it is killed if it has not ended (curl's own --max-time, plus a margin).
        let deadline: Millis
        /// The pidfd's number, or -1 when none could be opened (then the loop's next turn sees
        /// the end).
        let raw: Int32
        private let descriptor: FileDescriptor?
        var killed = false

        init(
            pid: Int32, startedAt: Millis, deadline: Millis, raw: Int32, descriptor: consuming FileDescriptor?
        ) {
            self.pid = pid
            self.startedAt = startedAt
            self.deadline = deadline
            self.raw = raw
            self.descriptor = descriptor
        }
    }

    /// One reading, for one upstream.
    struct Reading: Equatable {
        var upstream: String
        var verdict: StatusPageVerdict
    }

    /// Epoll tokens of fetches: this plus the page's index (below it, the runs' tokens).
    static let firstToken: UInt64 = 1 << 40
    /// The longest body read.
    static let bodyLimit = 1 << 20
    /// The longest a fetch may take (curl's `--max-time`), when `statusPoll` is longer.
    static let longestFetch: Millis = 10_000
    /// The shortest `--max-time` given to curl, however short `statusPoll` is.
    static let shortestFetch: Millis = 1_000

    let workspace: Workspace
    var environment: [String]
    /// The curl program, or nil when none is on PATH.
    var curl: String?
    private(set) var interval: Millis = 60_000
    private(set) var pages: [Page] = []

    init(workspace: Workspace, environment: [String]) {
        self.workspace = workspace
        self.environment = environment
        curl = Processes.locateProgram("curl", environment: environment, workingDirectory: nil)
    }

    var folder: String { workspace.swarmDirectory + "/status-pages" }

    /// `--max-time` for curl: `statusPoll`, within `shortestFetch...longestFetch`.
    var fetchTimeout: Millis { min(Self.longestFetch, max(Self.shortestFetch, interval)) }

    /// Takes the pages of `config` (at start and after a reload): a page whose URL stays keeps
    /// its fetch and its time; a new one is due at once.
    mutating func configure(_ config: SwarmConfig, now: Millis, epoll: borrowing Epoll) {
        interval = config.statusPollMilliseconds
        var fresh: [Page] = []
        for upstream in config.upstreams {
            guard let url = upstream.statusPage else { continue }
            let reader = (upstream: upstream.name, components: upstream.statusComponents)
            if let index = fresh.firstIndex(where: { $0.url == url }) {
                fresh[index].readers.append(reader)
            } else {
                let old = pages.first { $0.url == url }
                fresh.append(Page(url: url, readers: [reader], due: old?.due ?? now, fetch: old?.fetch))
            }
        }
        for page in pages where !fresh.contains(where: { $0.url == page.url }) {
            if let fetch = page.fetch { end(fetch, epoll: epoll) }
        }
        for index in fresh.indices where fresh[index].fetch != nil {
            // tokens are by position: watch again under the new one
            if let fetch = fresh[index].fetch, fetch.raw >= 0 {
                epoll.remove(fetch.raw)
                try? epoll.add(fetch.raw, token: Self.firstToken + UInt64(index))
            }
        }
        pages = fresh
    }

    /// True for the epoll token of a fetch.
    static func owns(_ token: UInt64) -> Bool { token >= firstToken }

    /// When something is next due: a page's fetch, or a running one's deadline.
    var nextDeadline: Millis? {
        pages.map { $0.fetch?.deadline ?? $0.due }.min()
    }

    /// Starts the fetches that are due. A page that cannot be fetched at all (no curl, a spawn
    /// that fails) is read as unknown at once.
    mutating func startDue(now: Millis, epoll: borrowing Epoll) -> [Reading] {
        var readings: [Reading] = []
        for index in pages.indices where pages[index].fetch == nil && pages[index].due <= now {
            pages[index].due = now + interval
            guard let curl else {
                readings += read(
                    pages[index], .failure(StatusFailure("curl is not installed (not on the daemon's PATH)")))
                continue
            }
            do {
                pages[index].fetch = try start(pages[index], index: index, curl: curl, now: now, epoll: epoll)
            } catch {
                readings += read(pages[index], .failure(StatusFailure("curl could not be started: \(error)")))
            }
        }
        return readings
    }

    private func start(_ page: Page, index: Int, curl: String, now: Millis, epoll: borrowing Epoll)
        throws(Errno)
        -> Fetch
    {
        try? FileSystem.makeDirectory(folder)
        let body = bodyPath(page)
        try? FileSystem.remove(body)
        try? FileSystem.remove(body + ".err")
        let seconds = "\(fetchTimeout / 1000).\(String(fetchTimeout % 1000 + 1000).dropFirst())"
        let arguments = [
            "-fsS", "--max-time", seconds, "--max-filesize", String(Self.bodyLimit), "--proto", "=http,https",
            "--location", "--max-redirs", "3", "-H", "Accept: application/json", "-o", body, "--url",
            page.url,
        ]
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: curl, arguments: arguments, environment: environment, workingDirectory: folder,
                stdoutPath: nil, stderrPath: body + ".err"))
        let deadline = now + fetchTimeout + 2_000
        let fetch: Fetch
        do {
            let descriptor = try Processes.pidfd(pid)
            let raw = descriptor.rawValue
            fetch = Fetch(pid: pid, startedAt: now, deadline: deadline, raw: raw, descriptor: descriptor)
            try? epoll.add(raw, token: Self.firstToken + UInt64(index))
        } catch {
            fetch = Fetch(pid: pid, startedAt: now, deadline: deadline, raw: -1, descriptor: nil)
        }
        return fetch
    }

    /// Collects the fetches that ended (and kills those past their deadline, read as timed
    /// out); returns what each page said.
    mutating func reap(now: Millis, epoll: borrowing Epoll) -> [Reading] {
        var readings: [Reading] = []
        for index in pages.indices {
            guard let fetch = pages[index].fetch else { continue }
            if let status = Processes.reap(fetch.pid) {
                end(fetch, epoll: epoll, reaped: true)
                pages[index].fetch = nil
                pages[index].due = max(pages[index].due, now)
                let result =
                    fetch.killed
                    ? .failure(StatusFailure("no answer within \(DurationText.format(fetchTimeout))"))
                    : report(of: pages[index], status: status)
                readings += read(pages[index], result)
            } else if now >= fetch.deadline, !fetch.killed {
                fetch.killed = true
                _ = Processes.signalGroup(fetch.pid, Signal.kill)
            }
        }
        return readings
    }

    /// Kills every running fetch (the daemon is stopping).
    mutating func stopAll(epoll: borrowing Epoll) {
        for index in pages.indices {
            if let fetch = pages[index].fetch { end(fetch, epoll: epoll) }
            pages[index].fetch = nil
        }
    }

    private func end(_ fetch: Fetch, epoll: borrowing Epoll, reaped: Bool = false) {
        if fetch.raw >= 0 { epoll.remove(fetch.raw) }
        guard !reaped else { return }
        _ = Processes.signalGroup(fetch.pid, Signal.kill)
        var tries = 0
        while Processes.reap(fetch.pid) == nil, tries < 100 {
            Clock.sleep(milliseconds: 1)
            tries += 1
        }
    }

    private func bodyPath(_ page: Page) -> String {
        folder + "/" + (page.readers.first?.upstream ?? "page") + ".json"
    }

    /// What curl's end and the body it wrote say: the page, or why there is none.
    private func report(of page: Page, status: ExitStatus) -> Result<StatusPageReport, StatusFailure> {
        let body = bodyPath(page)
        guard status == .exited(0) else {
            let said =
                (try? FileSystem.readFile(body + ".err", limit: 4096))
                .map { String(decoding: $0, as: UTF8.self) }?
                .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            switch status {
            case .exited(28):
                return .failure(StatusFailure("no answer within \(DurationText.format(fetchTimeout))"))
            case .exited(let code):
                return .failure(StatusFailure(said.isEmpty ? "curl failed (exit \(code))" : said))
            case .signaled: return .failure(StatusFailure("curl was killed"))
            }
        }
        do {
            return .success(try StatusPageReport.parse(try FileSystem.readFile(body, limit: Self.bodyLimit)))
        } catch let error as ProtocolError {
            return .failure(StatusFailure("the page is not a Statuspage summary.json (\(error.message))"))
        } catch {
            return .failure(StatusFailure("the page's body cannot be read (\(error))"))
        }
    }

    /// The reading of each upstream of `page`: a page that was read gives each the verdict of
    /// its own components.
    private func read(_ page: Page, _ result: Result<StatusPageReport, StatusFailure>) -> [Reading] {
        page.readers.map { reader in
            switch result {
            case .success(let report):
                Reading(upstream: reader.upstream, verdict: report.verdict(for: reader.components))
            case .failure(let failure): Reading(upstream: reader.upstream, verdict: .unknown(failure.why))
            }
        }
    }
}

/// Why a status page could not be read.
struct StatusFailure: Error {
    var why: String
    init(_ why: String) { self.why = why }
}
