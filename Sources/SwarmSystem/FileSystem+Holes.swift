import CSwarmShims
@preconcurrency import Glibc

/// A stretch of a file: bytes it stores, or a hole that reads as zeros and takes no disk.
public struct FileExtent: Sendable, Equatable {
    /// The offsets it covers.
    public var range: Range<Int64>
    /// True for a hole.
    public var isHole: Bool

    /// Builds an extent from its parts.
    public init(range: Range<Int64>, isHole: Bool) {
        self.range = range
        self.isHole = isHole
    }
}

/// A piece of a file read past its holes: stored bytes, or the length of a hole skipped.
public enum FilePiece: Sendable, Equatable {
    /// Bytes the file stores, in order.
    case bytes([UInt8])
    /// A hole of this many bytes, not read.
    case hole(Int64)
}

extension FileDescriptor {
    /// `fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)` over `range`; needs a
    /// descriptor open for writing. An empty range does nothing.
    func punchHole(_ range: Range<Int64>) throws(Errno) {
        guard !range.isEmpty else { return }
        _ = try retryingInterrupts { swarm_punch_hole(rawValue, range.lowerBound, Int64(range.count)) }
    }

    /// `lseek(SEEK_DATA)`: the first offset at or after `offset` that holds data; nil when
    /// only a hole follows (or `offset` is at or past the end).
    func nextData(from offset: Int64) throws(Errno) -> Int64? {
        do {
            return try retryingInterrupts { swarm_seek_data(rawValue, offset) }
        } catch .noSuchAddress {
            return nil
        }
    }

    /// `lseek(SEEK_HOLE)`: the first offset at or after `offset` in a hole, the end of the
    /// file counting as one; nil when `offset` is at or past the end.
    func nextHole(from offset: Int64) throws(Errno) -> Int64? {
        do {
            return try retryingInterrupts { swarm_seek_hole(rawValue, offset) }
        } catch .noSuchAddress {
            return nil
        }
    }

    /// `pread(2)`: up to `count` bytes at `offset`, not moving the file offset; an empty
    /// result means end of file.
    func read(at offset: Int64, upTo count: Int) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let outcome = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(Errno) -> Int in
                try retryingInterrupts { pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
            }
        }
        bytes.removeLast(count - (try outcome.get()))
        return bytes
    }

    /// The data and holes from `offset` to `end`, in order; adjacent holes are one.
    func extents(from offset: Int64, to end: Int64) throws(Errno) -> [FileExtent] {
        var extents: [FileExtent] = []
        var position = offset
        while position < end {
            let data = min(try nextData(from: position) ?? end, end)
            if data > position { extents.append(FileExtent(range: position..<data, isHole: true)) }
            guard data < end else { break }
            let hole = min(try nextHole(from: data) ?? end, end)
            extents.append(FileExtent(range: data..<hole, isHole: false))
            position = hole
        }
        return extents
    }
}

extension FileSystem {
    /// Frees the disk blocks of `range` in the regular file at `path`, which keeps its size:
    /// the range reads as zeros from then on (`fallocate(2)` with `FALLOC_FL_PUNCH_HOLE |
    /// FALLOC_FL_KEEP_SIZE`). Only whole blocks are freed; the partial blocks at the ends of
    /// the range are zeroed in place. A writer appending through its own `O_APPEND`
    /// descriptor is not disturbed. Returns the file's status after the punch.
    ///
    /// Opened `O_WRONLY | O_NOFOLLOW | O_NONBLOCK`, so a symbolic link fails with
    /// `.tooManyLinks` and a FIFO never blocks. Throws `.notSupported` where the file system
    /// cannot punch holes, `.isDirectory` for a directory, `.noSuchFile` when it is gone.
    @discardableResult
    public static func punchHole(_ path: String, _ range: Range<Int64>) throws(Errno) -> FileStatus {
        let file = try FileDescriptor.open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK)
        try file.punchHole(range)
        return try file.status()
    }

    /// The data and holes of the regular file at `path`, from `offset` to its end as it
    /// is now (`lseek` with `SEEK_DATA` and `SEEK_HOLE`). File systems that do not track
    /// holes report the whole file as data. Read like `readFile`: no symbolic link followed,
    /// never blocking on a FIFO.
    public static func extents(_ path: String, from offset: Int64 = 0) throws(FileReadError) -> [FileExtent] {
        let file = try openRegularForReading(path)
        do {
            return try file.extents(from: offset, to: try file.status().size)
        } catch {
            throw .system(error)
        }
    }

    /// Reads the regular file at `path` from `offset` to its end, skipping holes: the stored
    /// bytes come as `.bytes`, each hole as `.hole(length)`. At most `limit` bytes are read;
    /// `end` is the offset reached (the size when everything was read), where the next read
    /// of a growing file starts. A file shorter than `offset` gives nothing, with `end` at
    /// `offset`.
    public static func readSkippingHoles(_ path: String, from offset: Int64 = 0, limit: Int)
        throws(FileReadError) -> (pieces: [FilePiece], end: Int64)
    {
        let file = try openRegularForReading(path)
        var pieces: [FilePiece] = []
        var budget = Int64(limit)
        var position = offset
        do {
            for extent in try file.extents(from: offset, to: try file.status().size) {
                if extent.isHole {
                    pieces.append(.hole(Int64(extent.range.count)))
                    position = extent.range.upperBound
                    continue
                }
                var bytes: [UInt8] = []
                while position < extent.range.upperBound && budget > 0 {
                    let wanted = Int(min(extent.range.upperBound - position, budget, 1 << 20))
                    let chunk = try file.read(at: position, upTo: wanted)
                    if chunk.isEmpty { break }
                    bytes += chunk
                    position += Int64(chunk.count)
                    budget -= Int64(chunk.count)
                }
                if !bytes.isEmpty { pieces.append(.bytes(bytes)) }
                if position < extent.range.upperBound { break }
            }
        } catch {
            throw .system(error)
        }
        return (pieces, position)
    }

    /// Opens a regular file read-only without following a symbolic link or blocking on a
    /// FIFO; anything but a regular file is refused.
    private static func openRegularForReading(_ path: String) throws(FileReadError) -> FileDescriptor {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            throw .system(error)
        }
        let kind: FileKind
        do {
            kind = try file.status().kind
        } catch {
            throw .system(error)
        }
        guard kind == .regular else { throw .notRegularFile(kind) }
        return file
    }
}
