import CSwarmShims
@preconcurrency import Glibc

/// What a finished helper command printed and how it ended.
public struct CommandOutput: Sendable, Equatable {
    /// How it ended; nil when it had to be killed at the deadline.
    public var status: ExitStatus?
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    /// True when it exited 0.
    public var succeeded: Bool { status == .exited(0) }

    /// Standard output as text.
    public var text: String { String(decoding: stdout, as: UTF8.self) }

    /// The last line of standard error (else of standard output), for an error message.
    public var complaint: String {
        let source = stderr.isEmpty ? stdout : stderr
        let lines = String(decoding: source, as: UTF8.self).split(separator: "\n")
        return lines.last.map(String.init) ?? ""
    }
}

/// Runs short helper commands (a cluster's `sbatch`, `scancel`, `scontrol`) to completion and
/// collects what they print: the one place the runtime waits for another program.
public enum CommandRunner {
    /// Output beyond this many bytes per stream is read and dropped.
    public static let outputLimit = 16 << 20

    /// Runs `executable` (looked up in the `PATH` of `environment` when it has no `/`) with
    /// `arguments`, feeds it `input` on standard input, and waits until it exits. After
    /// `timeoutMilliseconds` it is killed with SIGKILL and its status is nil; so it is when
    /// `cancellation` is set while it runs.
    ///
    /// Throws `.noSuchFile` when no such program exists, `.canceled` when `cancellation` was
    /// set before it started, and what `posix_spawn` or `pipe2` fail with.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String], input: [UInt8] = [],
        workingDirectory: String? = nil, timeoutMilliseconds: Int64 = 30_000,
        cancellation: Cancellation? = nil
    ) throws(Errno) -> CommandOutput {
        if cancellation?.isCancelled == true { throw .canceled }
        guard
            let program = Processes.locateProgram(
                executable, environment: environment, workingDirectory: workingDirectory)
        else { throw .noSuchFile }
        var opened: [Int32] = []
        defer { opened.forEach(closeQuietly) }
        let stdin = try makePipe(&opened)
        let stdout = try makePipe(&opened)
        let stderr = try makePipe(&opened)
        // standard input goes into its pipe before the command starts, as far as the pipe holds
        // it: a command whose caller dies right after starting it (a daemon killed while
        // `sbatch` runs) still reads the whole of it, never a part or nothing
        let rest = prefill(stdin.write, with: input)
        if rest.isEmpty {
            closeQuietly(stdin.write)
            opened.removeAll { $0 == stdin.write }
        }
        let request = SpawnRequest(
            executable: program, arguments: arguments, environment: environment,
            workingDirectory: workingDirectory,
            passedDescriptors: [0: stdin.read, 1: stdout.write, 2: stderr.write],
            newSession: true)
        let pid = try Spawner.spawn(request)
        if let cancellation, !cancellation.started(group: pid) { _ = Processes.signalGroup(pid, SIGKILL) }
        defer { cancellation?.ended() }
        // the parent keeps only its own ends; the deferred close skips what `Streams` owns
        for fd in [stdin.read, stdout.write, stderr.write] { closeQuietly(fd) }
        opened.removeAll()
        // the parent's ends never block: a full pipe waits in poll, not in write
        for fd in [stdout.read, stderr.read] { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        var streams = Streams(
            input: Array(rest), writer: rest.isEmpty ? -1 : stdin.write,
            outReader: stdout.read, errReader: stderr.read)
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        let finished = streams.pump(until: deadline)
        streams.closeAll()
        if !finished { _ = Processes.signalGroup(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let killed = !finished || cancellation?.isCancelled == true
        return CommandOutput(
            status: killed ? nil : ExitStatus(waitStatus: status),
            stdout: streams.output, stderr: streams.errors)
    }

    /// Writes what the pipe `writer` takes of `input` without waiting (the descriptor is left
    /// non-blocking); returns the rest.
    private static func prefill(_ writer: Int32, with input: [UInt8]) -> ArraySlice<UInt8> {
        _ = fcntl(writer, F_SETFL, O_NONBLOCK)
        var written = 0
        while written < input.count {
            let count = input[written...].withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            written += count
        }
        return input[written...]
    }

    /// A close-on-exec pipe; both ends are added to `opened`.
    private static func makePipe(_ opened: inout [Int32]) throws(Errno) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retryingInterrupts { swarm_pipe_cloexec(&fds) }
        opened += fds
        return (fds[0], fds[1])
    }

    fileprivate static func closeQuietly(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }
}

/// The parent's ends of a helper command's three pipes, pumped with `poll(2)` so that a
/// command that prints a lot while its input is still being written cannot deadlock.
private struct Streams {
    var input: [UInt8]
    var written = 0
    var writer: Int32
    var outReader: Int32
    var errReader: Int32
    var output: [UInt8] = []
    var errors: [UInt8] = []

    init(input: [UInt8], writer: Int32, outReader: Int32, errReader: Int32) {
        self.input = input
        self.writer = writer
        self.outReader = outReader
        self.errReader = errReader
    }

    /// Moves bytes until both output pipes reach end of file (true) or the deadline passes.
    mutating func pump(until deadline: UInt64) -> Bool {
        while outReader >= 0 || errReader >= 0 {
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else { return false }
            var fds: [pollfd] = []
            if writer >= 0 { fds.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)) }
            if outReader >= 0 { fds.append(pollfd(fd: outReader, events: Int16(POLLIN), revents: 0)) }
            if errReader >= 0 { fds.append(pollfd(fd: errReader, events: Int16(POLLIN), revents: 0)) }
            let wait = Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000 + 1))
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 && errno != EINTR { return false }
            for entry in fds where entry.revents != 0 {
                if entry.fd == writer { feed() } else { drain(entry.fd) }
            }
        }
        return true
    }

    private mutating func feed() {
        let count = input[written...].withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) }
        if count > 0 { written += count }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        if count < 0 || written >= input.count {
            CommandRunner.closeQuietly(writer)
            writer = -1
        }
    }

    private mutating func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        guard count > 0 else {
            CommandRunner.closeQuietly(fd)
            if fd == outReader { outReader = -1 } else { errReader = -1 }
            return
        }
        if fd == outReader {
            if output.count < CommandRunner.outputLimit { output += buffer[..<count] }
        } else if errors.count < CommandRunner.outputLimit {
            errors += buffer[..<count]
        }
    }

    mutating func closeAll() {
        for fd in [writer, outReader, errReader] { CommandRunner.closeQuietly(fd) }
        writer = -1
        outReader = -1
        errReader = -1
    }
}
