import CSwarmShims
@preconcurrency import Glibc
import Synchronization

/// Numbers temporary files so that concurrent writers in one process never share a name.
private let temporaryFileCounter = Atomic<UInt64>(0)
/// This process's id, in the names of temporary files (asked of the kernel once).
private let temporaryFileOwner = getpid()

extension FileSystem {
    /// Replaces the file at `path` so that readers see either the old or the new bytes.
    ///
    /// Writes `.NAME.tmp-<pid>-<counter>` in the same directory (mode 0644 minus the umask),
    /// fsyncs it when `durable`, renames it over `path`, then fsyncs the directory when
    /// `durable`. The temporary file is removed if any step fails.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], durable: Bool = false)
        throws(Errno)
    {
        let (directory, name) = splitPath(path)
        let serial = temporaryFileCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let temporary = joinPath(directory, ".\(name).tmp-\(temporaryFileOwner)-\(serial)")
        do {
            let file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
            try file.writeAll(bytes)
            if durable { try file.sync() }
            _ = consume file
            _ = try retryingInterrupts { Glibc.rename(temporary, path) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        if durable { try syncDirectory(directory) }
    }

    /// Creates `path` with `bytes`, failing with `.fileExists` if anything is already there
    /// (`O_CREAT | O_EXCL`, mode 0644 minus the umask). For files that must never be replaced.
    ///
    /// The file is visible while it is being written; if writing fails it is removed again.
    public static func createExclusive(_ path: String, _ bytes: [UInt8]) throws(Errno) {
        let file = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        do {
            try file.writeAll(bytes)
        } catch {
            _ = unlink(path)
            throw error
        }
    }

    /// Appends `bytes` with one `write(2)` on an `O_APPEND` descriptor, creating the file
    /// (mode 0644 minus the umask) if needed.
    ///
    /// One call per record keeps concurrent appenders' lines whole: the kernel positions
    /// and writes each call as a unit. A loop happens only after a short write (a full disk).
    public static func append(_ path: String, _ bytes: [UInt8]) throws(Errno) {
        let file = try FileDescriptor.open(path, O_WRONLY | O_APPEND | O_CREAT, mode: 0o644)
        try file.writeAll(bytes)
    }

    /// Renames `from` to `to`. With `replace: false` the call fails with `.fileExists`
    /// instead of replacing an existing `to` (`renameat2` with `RENAME_NOREPLACE`).
    ///
    /// File systems that reject `RENAME_NOREPLACE` (NFS, some FUSE) get `link(2)` followed
    /// by `unlink(2)`, which refuses a taken name the same way but cannot move directories.
    public static func rename(_ from: String, to: String, replace: Bool = true) throws(Errno) {
        if replace {
            _ = try retryingInterrupts { Glibc.rename(from, to) }
            return
        }
        do {
            _ = try retryingInterrupts { swarm_rename_noreplace(from, to) }
        } catch .invalid {
            _ = try retryingInterrupts { link(from, to) }
            _ = try retryingInterrupts { unlink(from) }
        }
    }

    /// Renames the entry of `directory` whose name is the bytes `raw` (a name that is not
    /// valid UTF-8, so no String can name it) to `newName` in the same directory, never
    /// replacing an existing `newName`.
    public static func renameEntry(_ raw: [UInt8], in directory: String, to newName: String) throws(Errno) {
        let from = (Array(joinPath(directory, "").utf8) + raw).map { CChar(bitPattern: $0) } + [0]
        _ = try from.withUnsafeBufferPointer { (buffer) throws(Errno) in
            try retryingInterrupts {
                swarm_rename_noreplace(buffer.baseAddress!, joinPath(directory, newName))
            }
        }
    }

    /// Flushes a directory's entries to disk (`fsync(2)` on the directory), making a
    /// rename or a creation inside it durable.
    public static func syncDirectory(_ path: String) throws(Errno) {
        let directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        try directory.sync()
    }

    /// Splits a path into its directory ("." when there is none) and its last component.
    static func splitPath(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let name = String(path[path.index(after: slash)...])
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, name)
    }

    /// Joins a directory and a name with exactly one "/".
    static func joinPath(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
