@preconcurrency import Glibc

extension FileSystem {
    /// The last `maxBytes` bytes of a regular file (fewer when it is shorter), read without
    /// following a symlink or blocking on a FIFO. The first line may be cut.
    public static func readTail(_ path: String, maxBytes: Int) throws(FileReadError) -> [UInt8] {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            throw .system(error)
        }
        let status: FileStatus
        do {
            status = try file.status()
        } catch {
            throw .system(error)
        }
        guard status.kind == .regular else { throw .notRegularFile(status.kind) }
        let start = max(0, status.size - Int64(maxBytes))
        guard lseek(file.rawValue, off_t(start), SEEK_SET) >= 0 else { throw .system(.current) }
        var contents: [UInt8] = []
        while contents.count < maxBytes {
            let chunk: [UInt8]
            do {
                chunk = try file.read(upTo: min(maxBytes - contents.count, 64 * 1024))
            } catch {
                throw .system(error)
            }
            if chunk.isEmpty { break }
            contents += chunk
        }
        return contents
    }
}
