import CSwarmShims
@preconcurrency import Glibc

/// What `Terminal.enterRawMode` saved, to put the terminal back as it was.
public struct RawModeToken: Sendable {
    /// The terminal's descriptor.
    let descriptor: Int32
    /// The settings before raw mode.
    let saved: termios
}

/// Terminal queries and modes, for interactive commands.
public enum Terminal {
    /// Whether `fd` is a terminal (`isatty(3)`).
    public static func isTerminal(_ fd: Int32) -> Bool {
        isatty(fd) == 1
    }

    /// The window size of the terminal on `fd`; `nil` when it is not a terminal or the
    /// size is unknown (reported as zero).
    public static func size(_ fd: Int32) -> (rows: Int, columns: Int)? {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard swarm_window_size(fd, &rows, &columns) == 0, rows > 0, columns > 0 else { return nil }
        return (Int(rows), Int(columns))
    }

    /// Switches the terminal on `fd` to reading one key at a time without echo (canonical
    /// mode, echo and input translation off; reads return after one byte). Output
    /// processing and signal keys stay on, so "\n" still starts a new line and Ctrl-C still
    /// interrupts. Returns what to pass to `restore`, or `nil` when `fd` is not a terminal.
    public static func enterRawMode(_ fd: Int32) -> RawModeToken? {
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else { return nil }
        let token = RawModeToken(descriptor: fd, saved: settings)
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO | ECHONL | IEXTEN)
        settings.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR | IGNCR | ISTRIP)
        withUnsafeMutableBytes(of: &settings.c_cc) { characters in
            characters[Int(VMIN)] = 1
            characters[Int(VTIME)] = 0
        }
        guard (try? retryingInterrupts({ tcsetattr(fd, TCSAFLUSH, &settings) })) != nil else { return nil }
        return token
    }

    /// Puts the terminal back the way `enterRawMode` found it.
    public static func restore(_ token: RawModeToken) {
        var settings = token.saved
        _ = try? retryingInterrupts { tcsetattr(token.descriptor, TCSAFLUSH, &settings) }
    }
}

/// Plain reads and writes on the standard descriptors, without buffering.
public enum StandardStreams {
    /// Writes all of `s` as UTF-8 to `fd`, retrying interrupted and short writes. Errors
    /// (a closed pipe with SIGPIPE ignored) are dropped: there is nowhere to report them.
    public static func write(_ fd: Int32, _ s: String) {
        try? FileDescriptor.writeAll(to: fd, Array(s.utf8))
    }

    /// Writes all of `s` as UTF-8 to `fd`; false when the write failed (a closed pipe), so
    /// that the caller knows its reader did not get it.
    public static func send(_ fd: Int32, _ s: String) -> Bool {
        (try? FileDescriptor.writeAll(to: fd, Array(s.utf8))) != nil
    }

    /// Reads `fd` until end of file, an error, or `limit` bytes.
    public static func readAll(_ fd: Int32, limit: Int) -> [UInt8] {
        var result: [UInt8] = []
        while result.count < limit {
            guard let chunk = try? FileDescriptor.read(from: fd, upTo: min(64 * 1024, limit - result.count)),
                !chunk.isEmpty
            else { break }
            result += chunk
        }
        return result
    }
}
