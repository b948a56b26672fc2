@preconcurrency import Glibc

/// The sole owner of an open file descriptor: it closes the descriptor when it goes away.
///
/// Being `~Copyable`, an owner cannot be duplicated by accident, so a descriptor is closed
/// exactly once. Use `release()` to hand the raw number to someone else without closing it.
public struct FileDescriptor: ~Copyable, Sendable {
    /// The descriptor number. Valid only while this owner is alive.
    public let rawValue: Int32

    /// Takes ownership of `raw`, which must be an open descriptor nobody else will close.
    public init(adopting raw: Int32) {
        rawValue = raw
    }

    /// Closes the descriptor. Errors are ignored and `close` is never retried: Linux
    /// releases the number even when `close` fails with `EINTR`.
    deinit {
        _ = Glibc.close(rawValue)
    }

    /// Hands ownership of the descriptor to the caller, who must close it; nothing is closed.
    public consuming func release() -> Int32 {
        let raw = rawValue
        discard self
        return raw
    }
}

extension FileDescriptor {
    /// Opens `path` with `flags` (`O_CLOEXEC` is always added) and `mode` for created files.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(Errno)
        -> FileDescriptor
    {
        let raw = try retryingInterrupts { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(adopting: raw)
    }

    /// Opens `name` relative to this directory descriptor (`openat(2)`), adding `O_CLOEXEC`.
    func open(relative name: String, _ flags: Int32) throws(Errno) -> FileDescriptor {
        let raw = try retryingInterrupts { openat(rawValue, name, flags | O_CLOEXEC, 0) }
        return FileDescriptor(adopting: raw)
    }

    /// Writes every byte, looping on short writes; throws on the first error.
    func writeAll(_ bytes: [UInt8]) throws(Errno) {
        try FileDescriptor.writeAll(to: rawValue, bytes)
    }

    /// Reads up to `count` bytes at the current offset; an empty result means end of file.
    func read(upTo count: Int) throws(Errno) -> [UInt8] {
        try FileDescriptor.read(from: rawValue, upTo: count)
    }

    /// Writes every byte to a descriptor this code does not own, looping on short writes.
    static func writeAll(to fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        let outcome = bytes.withUnsafeBytes { buffer in
            Result { () throws(Errno) in
                var offset = 0
                while offset < buffer.count {
                    offset += try retryingInterrupts {
                        Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    }
                }
            }
        }
        try outcome.get()
    }

    /// Reads up to `count` bytes from a descriptor this code does not own.
    static func read(from fd: Int32, upTo count: Int) throws(Errno) -> [UInt8] {
        var failure: Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let outcome = Result { () throws(Errno) -> Int in
                try retryingInterrupts { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            switch outcome {
            case .success(let read): initialized = read
            case .failure(let error):
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// `fstat(2)` of the open file.
    func status() throws(Errno) -> FileStatus {
        var info = stat()
        _ = try retryingInterrupts { fstat(rawValue, &info) }
        return FileStatus(info)
    }

    /// `fsync(2)`: the file's data and metadata reach the disk.
    func sync() throws(Errno) {
        _ = try retryingInterrupts { fsync(rawValue) }
    }
}
