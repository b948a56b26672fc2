@preconcurrency import Glibc

extension Signal {
    /// The terminal's window changed size.
    public static let windowChanged = SIGWINCH
}

extension StandardStreams {
    /// Reads whatever `fd` has now, up to `limit` bytes, in one read(2); empty at end of
    /// file or on an error.
    public static func readAvailable(_ fd: Int32, limit: Int = 256) -> [UInt8] {
        (try? FileDescriptor.read(from: fd, upTo: limit)) ?? []
    }
}
