@preconcurrency import Glibc

/// The type of a file system object, as `lstat(2)` or a directory entry reports it.
public enum FileKind: Sendable, Equatable {
    /// A regular file.
    case regular
    /// A directory.
    case directory
    /// A symbolic link (never followed when this kind is reported).
    case symlink
    /// A named pipe.
    case fifo
    /// A Unix domain socket.
    case socket
    /// A character device, such as /dev/null or a terminal.
    case characterDevice
    /// A block device.
    case blockDevice
    /// Something the kernel reported with a type this code does not know.
    case unknown

    /// The kind encoded in the `S_IFMT` bits of an `st_mode`.
    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: self = .unknown
        }
    }

    /// The kind encoded in a `d_type`; `nil` for `DT_UNKNOWN`, when only a stat can tell.
    init?(directoryEntryType type: UInt8) {
        switch Int(type) {
        case DT_REG: self = .regular
        case DT_DIR: self = .directory
        case DT_LNK: self = .symlink
        case DT_FIFO: self = .fifo
        case DT_SOCK: self = .socket
        case DT_CHR: self = .characterDevice
        case DT_BLK: self = .blockDevice
        default: return nil
        }
    }
}

/// What `stat(2)` says about a file, reduced to what the runtime uses.
public struct FileStatus: Sendable, Equatable {
    /// The type of the object.
    public var kind: FileKind
    /// Size in bytes (for a symbolic link: the length of its target).
    public var size: Int64
    /// Last modification time, in nanoseconds since the Unix epoch.
    public var modifiedNanos: Int64
    /// The inode number.
    public var inode: UInt64
    /// The device holding the inode.
    public var device: UInt64
    /// Bytes of disk the file takes (`st_blocks` * 512): less than `size` for a file with
    /// holes, more for one with preallocated space.
    public var allocatedBytes: Int64
    /// The file system's preferred block size for this file (`st_blksize`); holes are
    /// freed in whole blocks.
    public var blockSize: Int64
    /// The number of hard links (names) of the inode.
    public var linkCount: UInt64

    /// Builds a status from its parts.
    public init(
        kind: FileKind, size: Int64, modifiedNanos: Int64, inode: UInt64, device: UInt64,
        allocatedBytes: Int64 = 0, blockSize: Int64 = 4096, linkCount: UInt64 = 1
    ) {
        self.kind = kind
        self.size = size
        self.modifiedNanos = modifiedNanos
        self.inode = inode
        self.device = device
        self.allocatedBytes = allocatedBytes
        self.blockSize = blockSize
        self.linkCount = linkCount
    }

    /// Converts a C `struct stat`.
    init(_ info: stat) {
        self.init(
            kind: FileKind(mode: info.st_mode),
            size: Int64(info.st_size),
            modifiedNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            inode: UInt64(info.st_ino),
            device: UInt64(info.st_dev),
            allocatedBytes: Int64(info.st_blocks) * 512,
            blockSize: Int64(info.st_blksize),
            linkCount: UInt64(info.st_nlink))
    }
}

/// File system operations: each is a small wrapper over one or a few system calls.
///
/// Every descriptor opened here is close-on-exec, and every call retries `EINTR`.
/// Paths are passed to the kernel as they are; relative paths resolve against the
/// current directory.
public enum FileSystem {
    /// `lstat(2)`: the status of `path` itself, never following a final symbolic link.
    /// `nil` when it cannot be stat'ed (missing, or a component is not searchable).
    public static func status(_ path: String) -> FileStatus? {
        var info = stat()
        guard (try? retryingInterrupts({ lstat(path, &info) })) != nil else { return nil }
        return FileStatus(info)
    }

    /// `stat(2)`: the status of what `path` names after following symbolic links.
    public static func statusFollowing(_ path: String) -> FileStatus? {
        var info = stat()
        guard (try? retryingInterrupts({ stat(path, &info) })) != nil else { return nil }
        return FileStatus(info)
    }

    /// Whether `path` exists; a dangling symbolic link exists (this is an `lstat`).
    public static func exists(_ path: String) -> Bool {
        status(path) != nil
    }

    /// Removes one name: `unlink(2)`, or `rmdir(2)` when it is a directory (which must be empty).
    public static func remove(_ path: String) throws(Errno) {
        do {
            _ = try retryingInterrupts { unlink(path) }
        } catch .isDirectory {
            _ = try retryingInterrupts { rmdir(path) }
        }
    }

    /// Creates a symbolic link at `path` that points to `target` (stored as given).
    public static func symlink(target: String, at path: String) throws(Errno) {
        _ = try retryingInterrupts { Glibc.symlink(target, path) }
    }

    /// The target stored in the symbolic link at `path`; `nil` when it is not a link.
    public static func readLink(_ path: String) -> String? {
        var capacity = Int(PATH_MAX)
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            guard let length = try? retryingInterrupts({ readlink(path, &buffer, capacity) }) else {
                return nil
            }
            if length < capacity {
                return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity *= 2
        }
    }

    /// The current working directory of the process (`getcwd(3)`); "/" if it cannot be read.
    public static func currentDirectory() -> String {
        guard let raw = getcwd(nil, 0) else { return "/" }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// The canonical absolute path (`realpath(3)`): symbolic links, `.` and `..` resolved.
    /// `nil` when some component does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let raw = Glibc.realpath(path, nil) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }
}
