import CSwarmShims
@preconcurrency import Glibc

/// Pipes handed to child processes.
public enum Pipe {
    /// Bytes a pipe holds without a reader: what `filled` can take in one go.
    public static let capacity = 65_536

    /// A close-on-exec pipe already holding `bytes` (at most `capacity`; more is cut) with its
    /// write end closed: the returned read end gives a child `bytes`, then end of file. It
    /// needs no file, so it works on a full disk.
    public static func filled(with bytes: [UInt8]) throws(Errno) -> FileDescriptor {
        var fds: [Int32] = [-1, -1]
        _ = try retryingInterrupts { swarm_pipe_cloexec(&fds) }
        let reader = FileDescriptor(adopting: fds[0])
        let writer = FileDescriptor(adopting: fds[1])
        try writer.writeAll(Array(bytes.prefix(capacity)))
        return reader
    }
}
