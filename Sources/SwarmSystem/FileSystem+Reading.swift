@preconcurrency import Glibc

/// Why `FileSystem.readFile` refused or failed to read a file.
public enum FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed: `.tooManyLinks` when the path is a symbolic link,
    /// `.noSuchFile` when it does not exist.
    case system(Errno)
    /// The path names something other than a regular file (a FIFO, a device, a directory).
    case notRegularFile(FileKind)
    /// The file holds more than `limit` bytes; `size` is what was seen (at least `limit + 1`).
    case tooLarge(size: Int64, limit: Int)

    /// A sentence a person can act on.
    public var description: String {
        switch self {
        case .system(let error): return error.description
        case .notRegularFile(let kind): return "not a regular file (\(kind))"
        case .tooLarge(let size, let limit): return "file too large (\(size) bytes; the limit is \(limit))"
        }
    }
}

extension FileSystem {
    /// Reads a whole regular file of at most `limit` bytes, safely for files others control.
    ///
    /// Opens with `O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`, so a symbolic link is
    /// refused (`.system(.tooManyLinks)`) and opening a FIFO never blocks; then `fstat`
    /// must report a regular file, so nothing ever waits on a FIFO or a device. The limit
    /// is checked against the size before reading and again while reading, for a file
    /// that grows in between (and for `/proc` files, which report size 0).
    public static func readFile(_ path: String, limit: Int) throws(FileReadError) -> [UInt8] {
        let file = try reportingSystemErrors { () throws(Errno) in
            try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        }
        let status = try reportingSystemErrors { () throws(Errno) in try file.status() }
        guard status.kind == .regular else { throw .notRegularFile(status.kind) }
        guard status.size <= Int64(limit) else { throw .tooLarge(size: status.size, limit: limit) }

        var contents: [UInt8] = []
        contents.reserveCapacity(Int(status.size))
        while true {
            // Ask for one byte past the limit so an oversized file is noticed.
            let wanted = min(limit + 1 - contents.count, 64 * 1024)
            let chunk = try reportingSystemErrors { () throws(Errno) in try file.read(upTo: wanted) }
            if chunk.isEmpty { return contents }
            contents += chunk
            if contents.count > limit {
                throw .tooLarge(size: Int64(contents.count), limit: limit)
            }
        }
    }

    /// Runs `body`, wrapping a thrown `Errno` as `FileReadError.system`.
    private static func reportingSystemErrors<Value: ~Copyable>(
        _ body: () throws(Errno) -> Value
    ) throws(FileReadError) -> Value {
        do {
            return try body()
        } catch {
            throw .system(error)
        }
    }
}
