import CSwarmShims
@preconcurrency import Glibc

/// An error number reported by the kernel or the C library, as a value.
///
/// Wrappers in this module throw `Errno` directly, so callers can match on the named
/// constants (`catch .noSuchFile`) instead of comparing raw integers.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw error number, as found in `errno`.
    public var rawValue: Int32

    /// Wraps a raw error number.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The value of `errno` for the calling thread right now.
    public static var current: Errno {
        Errno(rawValue: errno)
    }

    /// The C library's text and the symbolic name, e.g. "No such file or directory (ENOENT)".
    public var description: String {
        let text = swarm_errno_description(rawValue).map { String(cString: $0) }
        let name = swarm_errno_name(rawValue).map { String(cString: $0) }
        switch (text, name) {
        case let (text?, name?): return "\(text) (\(name))"
        case let (text?, nil): return "\(text) (errno \(rawValue))"
        default: return "Unknown error (errno \(rawValue))"
        }
    }

    /// `ENOENT`: no such file or directory.
    public static let noSuchFile = Errno(rawValue: ENOENT)
    /// `EEXIST`: the file exists.
    public static let fileExists = Errno(rawValue: EEXIST)
    /// `EAGAIN` (also `EWOULDBLOCK`): the operation would block.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `EINTR`: a signal interrupted the call.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EACCES`: permission denied.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `EPERM`: the operation is not permitted.
    public static let notPermitted = Errno(rawValue: EPERM)
    /// `ENOTDIR`: a path component is not a directory.
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// `EISDIR`: the file is a directory.
    public static let isDirectory = Errno(rawValue: EISDIR)
    /// `ELOOP`: too many symbolic links, or a symbolic link met where `O_NOFOLLOW` forbids one.
    public static let tooManyLinks = Errno(rawValue: ELOOP)
    /// `ENOSPC`: no space left on the device.
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// `EXDEV`: the operation would cross file systems.
    public static let crossDevice = Errno(rawValue: EXDEV)
    /// `ECHILD`: no such child process.
    public static let noChild = Errno(rawValue: ECHILD)
    /// `ESRCH`: no such process.
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    /// `EINVAL`: an argument is invalid (or the file system does not support the operation).
    public static let invalid = Errno(rawValue: EINVAL)
    /// `EOPNOTSUPP` (also `ENOTSUP`): the file system or object does not support the operation.
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)
    /// `ENXIO`: no such device or address; from `lseek(SEEK_DATA)`, no data past the offset.
    public static let noSuchAddress = Errno(rawValue: ENXIO)
    /// `ENOTEMPTY`: the directory is not empty.
    public static let directoryNotEmpty = Errno(rawValue: ENOTEMPTY)
    /// `EDQUOT`: the user's disk quota is exhausted.
    public static let quotaExceeded = Errno(rawValue: EDQUOT)
    /// `ECANCELED`: the work was cancelled before it started.
    public static let canceled = Errno(rawValue: ECANCELED)

    /// True for the errors of a file system that has no room left (`ENOSPC`, `EDQUOT`).
    public var meansFull: Bool { self == .noSpace || self == .quotaExceeded }
}

/// Runs a system call until it returns something other than `-1` with `EINTR`.
///
/// Returns the result when it is not `-1`; throws the `errno` of a failure otherwise.
/// This is the one place that retries interrupted calls. Never use it for `close(2)`:
/// on Linux the descriptor is released even when `close` reports `EINTR`, and a retry
/// could close a descriptor another thread has just been handed.
@inline(__always)
func retryingInterrupts<Result: FixedWidthInteger & SignedInteger>(
    _ call: () -> Result
) throws(Errno) -> Result {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}

/// Turns the return value of a call that reports errors as a returned error number
/// (posix_spawn and its helpers) into a thrown `Errno`.
@inline(__always)
func checkReturnedError(_ code: Int32) throws(Errno) {
    if code != 0 { throw Errno(rawValue: code) }
}
