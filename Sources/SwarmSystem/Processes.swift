import CSwarmShims
@preconcurrency import Glibc

/// How a child process ended.
public enum ExitStatus: Sendable, Equatable {
    /// It called `exit` with this code (0-255).
    case exited(Int32)
    /// A signal with this number killed it.
    case signaled(Int32)

    /// Decodes a `waitpid` status word; `nil` for stop and continue reports.
    init?(waitStatus status: Int32) {
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else if signal != 0x7f && (status & 0xffff) != 0xffff {
            self = .signaled(signal)
        } else {
            return nil
        }
    }
}

/// Child processes and signals, by pid.
///
/// A pid names a process only until it is reaped; after that the number may be reused.
/// Prefer a pidfd (`pidfd(_:)`) to watch and signal a child without that race.
public enum Processes {
    /// Opens a pidfd for `pid` (`pidfd_open(2)`, always close-on-exec). It becomes
    /// readable in an `Epoll` when the process exits, and stays valid after its pid is
    /// reused. Fails with `.noSuchProcess` when `pid` does not exist.
    public static func pidfd(_ pid: Int32) throws(Errno) -> FileDescriptor {
        FileDescriptor(adopting: try retryingInterrupts { swarm_pidfd_open(pid) })
    }

    /// Collects `pid` if it has ended (`waitpid` with `WNOHANG`). `nil` while it runs,
    /// and when it is not a child of this process or was already reaped. Only positive
    /// pids are accepted: 0 and -1 would collect some other child.
    public static func reap(_ pid: Int32) -> ExitStatus? {
        var status: Int32 = 0
        guard pid > 0, let got = try? retryingInterrupts({ waitpid(pid, &status, WNOHANG) }), got == pid
        else {
            return nil
        }
        return ExitStatus(waitStatus: status)
    }

    /// Sends `sig` to `pid` (`kill(2)`); `true` when it was delivered.
    public static func signal(_ pid: Int32, _ sig: Int32) -> Bool {
        kill(pid, sig) == 0
    }

    /// Sends `sig` to every process in the process group `pgid` (for a session leader
    /// spawned with `newSession`, its pid); `true` when at least one got it.
    public static func signalGroup(_ pgid: Int32, _ sig: Int32) -> Bool {
        guard pgid > 1 else { return false }
        return kill(-pgid, sig) == 0
    }

    /// Whether `pid` names a live process. A process that exists but belongs to another
    /// user counts as alive; a zombie (ended, not yet reaped) counts as dead.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || Errno.current == .notPermitted else { return false }
        return ProcFS.entry(of: pid)?.state != "Z"
    }

    /// Waits until every process of `pids` has ended (each watched through a pidfd, so an
    /// orphan that init reaps counts too) or `timeoutMilliseconds` passed; true when all
    /// ended. One that is already gone counts as ended.
    public static func awaitExit(_ pids: [Int32], timeoutMilliseconds: Int64) -> Bool {
        var watched: [Int32] = []
        for pid in pids {
            if let descriptor = try? pidfd(pid) { watched.append(descriptor.release()) }
        }
        defer { for fd in watched { _ = Glibc.close(fd) } }
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        while !watched.isEmpty {
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else { return false }
            var fds = watched.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let wait = Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000 + 1))
            if poll(&fds, nfds_t(fds.count), wait) < 0 && errno != EINTR { return false }
            for entry in fds where entry.revents != 0 {
                _ = Glibc.close(entry.fd)
                watched.removeAll { $0 == entry.fd }
            }
        }
        return true
    }

    /// The pid of this process.
    public static var currentID: Int32 {
        getpid()
    }
}
