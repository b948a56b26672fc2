import CSwarmShims
@preconcurrency import Glibc

/// One name in a directory listing.
public struct DirectoryEntry: Sendable, Equatable {
    /// The name inside the directory (never "." or ".."). Bytes that are not valid UTF-8
    /// appear as U+FFFD; `rawName` then holds the name as it is on disk.
    public var name: String
    /// The type of the entry itself (a symbolic link is `.symlink`, never its target's kind).
    public var kind: FileKind
    /// The name's bytes when they are not valid UTF-8 (so `name` cannot open it); nil otherwise.
    public var rawName: [UInt8]?

    /// Builds an entry from its parts.
    public init(name: String, kind: FileKind, rawName: [UInt8]? = nil) {
        self.name = name
        self.kind = kind
        self.rawName = rawName
    }

    /// The name as a NUL-terminated C string of its bytes on disk.
    var cName: [CChar] {
        (rawName ?? Array(name.utf8)).map { CChar(bitPattern: $0) } + [0]
    }
}

/// A name the kernel gave as bytes: its text, and the bytes themselves when they are not
/// valid UTF-8 (the text then has U+FFFD in their place).
func decodeName<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> (name: String, raw: [UInt8]?) {
    let name = String(decoding: bytes, as: UTF8.self)
    return name.utf8.elementsEqual(bytes) ? (name, nil) : (name, Array(bytes))
}

extension FileSystem {
    /// Creates the directory `path` (mode 0755 minus the umask). A directory already there
    /// is fine; anything else there fails with `.fileExists`. With `intermediates`, missing
    /// parents are created first.
    public static func makeDirectory(_ path: String, intermediates: Bool = true) throws(Errno) {
        do {
            try makeOneDirectory(path)
        } catch .noSuchFile where intermediates {
            try makeDirectory(splitPath(path).directory, intermediates: true)
            try makeOneDirectory(path)
        }
    }

    /// Marks the directory `path` as the top of unrelated directory hierarchies (`chattr +T`):
    /// on ext4, new subdirectories (and the files created in them) then go to lightly used
    /// block groups instead of the parent's. File systems without the flag throw
    /// (`ENOTTY`, `EOPNOTSUPP`); nothing else changes.
    ///
    /// Why it matters: ext4 without a journal does not reuse an inode freed in the last
    /// minutes, and every allocation scans past those in its block group one by one. A
    /// folder such as `/tmp`, where other programs create and delete many files, can make
    /// each file created beside them cost a scan over thousands.
    public static func markTopOfHierarchies(_ path: String) throws(Errno) {
        let directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        _ = try retryingInterrupts { swarm_mark_topdir(directory.rawValue) }
    }

    /// The entries of the directory at `path`, sorted by name, without "." and "..".
    ///
    /// Kinds come from `d_type`; where the file system leaves it unknown, from an `lstat`
    /// relative to the open directory. An entry removed in between is left out.
    public static func entries(of dir: String) throws(Errno) -> [DirectoryEntry] {
        try listEntries(try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY))
    }

    /// Removes `path` and, if it is a directory, everything below it, like `rm -rf`.
    ///
    /// Symbolic links are removed, never followed, at every level: each directory is
    /// opened with `O_NOFOLLOW` and emptied through its descriptor, so swapping a directory
    /// for a link during the walk cannot redirect the removal. A missing `path` is not an
    /// error; neither is an entry that disappears during the walk.
    public static func removeTree(_ path: String) throws(Errno) {
        guard let status = status(path) else { return }
        guard status.kind == .directory else {
            try ignoringMissing { () throws(Errno) in _ = try retryingInterrupts { unlink(path) } }
            return
        }
        try ignoringMissing { () throws(Errno) in
            try removeContents(of: try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
            _ = try retryingInterrupts { rmdir(path) }
        }
    }

    /// `mkdir(2)` of one directory, accepting an existing directory.
    private static func makeOneDirectory(_ path: String) throws(Errno) {
        do {
            _ = try retryingInterrupts { mkdir(path, 0o755) }
        } catch .fileExists {
            guard statusFollowing(path)?.kind == .directory else { throw .fileExists }
        }
    }

    /// Reads every entry of an open directory; the descriptor is consumed and closed.
    private static func listEntries(_ directory: consuming FileDescriptor) throws(Errno)
        -> [DirectoryEntry]
    {
        let raw = directory.release()
        guard let stream = fdopendir(raw) else {
            let error = Errno.current
            _ = close(raw)
            throw error
        }
        defer { closedir(stream) }
        var result: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Errno.current }
                break
            }
            let (name, raw) = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                decodeName(bytes.prefix { $0 != 0 })
            }
            if name == "." || name == ".." { continue }
            if let kind = FileKind(directoryEntryType: entry.pointee.d_type) {
                result.append(DirectoryEntry(name: name, kind: kind, rawName: raw))
                continue
            }
            // by the entry's own bytes (NUL-terminated), which hold any name as it is on disk
            var info = stat()
            let looked = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                fstatat(
                    dirfd(stream), bytes.baseAddress!.assumingMemoryBound(to: CChar.self), &info,
                    AT_SYMLINK_NOFOLLOW)
            }
            if looked == 0 {
                result.append(DirectoryEntry(name: name, kind: FileKind(mode: info.st_mode), rawName: raw))
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    /// Empties an open directory, recursing into subdirectories through `openat(2)`.
    private static func removeContents(of directory: borrowing FileDescriptor) throws(Errno) {
        for entry in try listEntries(try directory.open(relative: ".", O_RDONLY | O_DIRECTORY)) {
            // by the name's bytes, so that a name that is not UTF-8 goes too
            let name = entry.cName
            try ignoringMissing { () throws(Errno) in
                if entry.kind == .directory {
                    let raw = try name.withUnsafeBufferPointer { (buffer) throws(Errno) in
                        try retryingInterrupts {
                            openat(
                                directory.rawValue, buffer.baseAddress!,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                        }
                    }
                    try removeContents(of: FileDescriptor(adopting: raw))
                    _ = try name.withUnsafeBufferPointer { (buffer) throws(Errno) in
                        try retryingInterrupts {
                            unlinkat(directory.rawValue, buffer.baseAddress!, AT_REMOVEDIR)
                        }
                    }
                } else {
                    _ = try name.withUnsafeBufferPointer { (buffer) throws(Errno) in
                        try retryingInterrupts { unlinkat(directory.rawValue, buffer.baseAddress!, 0) }
                    }
                }
            }
        }
    }

    /// Runs `body`, treating `.noSuchFile` as success (something else removed it first).
    private static func ignoringMissing(_ body: () throws(Errno) -> Void) throws(Errno) {
        do {
            try body()
        } catch .noSuchFile {
            return
        }
    }
}
