import CSwarmShims
@preconcurrency import Glibc

/// An inotify instance: watches on paths, and a non-blocking descriptor that becomes
/// readable when events are queued (put `rawValue` in an `Epoll`).
public struct Inotify: ~Copyable, Sendable {
    private let descriptor: FileDescriptor

    /// Creates an instance with `IN_NONBLOCK | IN_CLOEXEC`.
    public init() throws(Errno) {
        let raw = try retryingInterrupts { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        descriptor = FileDescriptor(adopting: raw)
    }

    /// The inotify descriptor, for polling.
    public var rawValue: Int32 { descriptor.rawValue }

    /// Watches `path` for the events in `mask` and returns the watch descriptor that
    /// events will carry. Watching a path already watched returns the same descriptor
    /// and replaces its mask. Fails with `.noSpace` when the per-user watch limit is hit.
    public func add(_ path: String, mask: Mask) throws(Errno) -> Int32 {
        try retryingInterrupts { inotify_add_watch(descriptor.rawValue, path, mask.rawValue) }
    }

    /// Stops a watch; the kernel then queues one `.ignored` event for it. Errors (a watch
    /// already gone because its directory was deleted) are ignored.
    public func remove(_ wd: Int32) {
        _ = inotify_rm_watch(descriptor.rawValue, wd)
    }

    /// Every event queued right now, in order; `[]` when there is none.
    ///
    /// Reads with a 64 KiB buffer until the queue is empty. A `.queueOverflow` event
    /// (watch descriptor -1) means events were lost: rescan what is watched.
    public func read() throws(Errno) -> [Event] {
        var events: [Event] = []
        while true {
            let chunk: [UInt8]
            do {
                chunk = try FileDescriptor.read(from: descriptor.rawValue, upTo: 64 * 1024)
            } catch .wouldBlock {
                return events
            }
            if chunk.isEmpty { return events }
            chunk.withUnsafeBytes { Inotify.parse($0, into: &events) }
        }
    }

    /// Decodes the `struct inotify_event` records in `bytes` (a header of four 32-bit
    /// fields, then `len` bytes of NUL-padded name).
    private static func parse(_ bytes: UnsafeRawBufferPointer, into events: inout [Event]) {
        let headerSize = 16
        var offset = 0
        while offset + headerSize <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headerSize
            let nameEnd = min(nameStart + length, bytes.count)
            let (name, raw) = decodeName(bytes[nameStart..<nameEnd].prefix { $0 != 0 })
            events.append(Event(wd: wd, mask: Mask(rawValue: mask), cookie: cookie, name: name, rawName: raw))
            offset = nameStart + length
        }
    }
}

extension Inotify {
    /// One inotify event.
    public struct Event: Sendable, Equatable {
        /// The watch that produced it (-1 for `.queueOverflow`).
        public var wd: Int32
        /// What happened; `.isDirectory` is set when the subject is a directory.
        public var mask: Mask
        /// Links the `.movedFrom` and `.movedTo` halves of one rename.
        public var cookie: UInt32
        /// The name inside the watched directory; empty for events about the watched path itself.
        /// Bytes that are not valid UTF-8 appear as U+FFFD; `rawName` then holds the name's bytes.
        public var name: String
        /// The name's bytes when they are not valid UTF-8; nil otherwise.
        public var rawName: [UInt8]?

        /// Builds an event from its parts.
        public init(wd: Int32, mask: Mask, cookie: UInt32, name: String, rawName: [UInt8]? = nil) {
            self.wd = wd
            self.mask = mask
            self.cookie = cookie
            self.name = name
            self.rawName = rawName
        }
    }

    /// Event bits (what to watch, and what happened) and watch flags.
    public struct Mask: OptionSet, Sendable, Hashable {
        /// The `IN_*` bits.
        public var rawValue: UInt32

        /// Wraps raw `IN_*` bits.
        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// `IN_ACCESS`: a file was read.
        public static let access = Mask(rawValue: 0x0000_0001)
        /// `IN_MODIFY`: a file was written.
        public static let modify = Mask(rawValue: 0x0000_0002)
        /// `IN_ATTRIB`: metadata changed (permissions, timestamps, link count).
        public static let attrib = Mask(rawValue: 0x0000_0004)
        /// `IN_CLOSE_WRITE`: a file opened for writing was closed.
        public static let closeWrite = Mask(rawValue: 0x0000_0008)
        /// `IN_CLOSE_NOWRITE`: a file not opened for writing was closed.
        public static let closeNoWrite = Mask(rawValue: 0x0000_0010)
        /// `IN_OPEN`: a file was opened.
        public static let open = Mask(rawValue: 0x0000_0020)
        /// `IN_MOVED_FROM`: a name was renamed out of the watched directory.
        public static let movedFrom = Mask(rawValue: 0x0000_0040)
        /// `IN_MOVED_TO`: a name was renamed into the watched directory.
        public static let movedTo = Mask(rawValue: 0x0000_0080)
        /// `IN_CREATE`: a name was created in the watched directory.
        public static let create = Mask(rawValue: 0x0000_0100)
        /// `IN_DELETE`: a name was deleted from the watched directory.
        public static let delete = Mask(rawValue: 0x0000_0200)
        /// `IN_DELETE_SELF`: the watched path itself was deleted.
        public static let deleteSelf = Mask(rawValue: 0x0000_0400)
        /// `IN_MOVE_SELF`: the watched path itself was moved.
        public static let moveSelf = Mask(rawValue: 0x0000_0800)
        /// `IN_UNMOUNT`: the file system holding the watched path was unmounted.
        public static let unmount = Mask(rawValue: 0x0000_2000)
        /// `IN_Q_OVERFLOW`: the event queue overflowed and events were lost.
        public static let queueOverflow = Mask(rawValue: 0x0000_4000)
        /// `IN_IGNORED`: the watch was removed (explicitly, or because its path went away).
        public static let ignored = Mask(rawValue: 0x0000_8000)
        /// `IN_ONLYDIR`: watch the path only if it is a directory.
        public static let onlyDirectory = Mask(rawValue: 0x0100_0000)
        /// `IN_DONT_FOLLOW`: do not follow a final symbolic link when adding the watch.
        public static let dontFollow = Mask(rawValue: 0x0200_0000)
        /// `IN_EXCL_UNLINK`: no events for children after they were unlinked.
        public static let excludeUnlinked = Mask(rawValue: 0x0400_0000)
        /// `IN_ISDIR`: the subject of the event is a directory.
        public static let isDirectory = Mask(rawValue: 0x4000_0000)
        /// `IN_ONESHOT`: report one event, then remove the watch (an `IN_IGNORED` follows).
        public static let oneShot = Mask(rawValue: 0x8000_0000)
    }
}
