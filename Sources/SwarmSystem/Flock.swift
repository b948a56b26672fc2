@preconcurrency import Glibc

/// Advisory whole-file locks (`flock(2)`), which belong to an open file description.
///
/// A lock lives exactly as long as some descriptor for its open file description does,
/// in this process or in any process that inherited it. That is how the runtime learns
/// whether an agent (or a descendant still holding the agent's lock descriptor) is alive:
/// it probes the lock instead of guessing from a pid that may have been reused.
public enum Flock {
    /// Opens (creating, mode 0644 minus the umask) `path` and takes an exclusive lock
    /// without waiting. Returns the locked descriptor, whose closing releases the lock,
    /// or `nil` when another open file description holds a lock on the file (even one
    /// in this same process).
    public static func tryLock(_ path: String) throws(Errno) -> FileDescriptor? {
        let file = try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o644)
        guard try lockWithoutWaiting(file) else { return nil }
        return consume file
    }

    /// Takes an exclusive lock on the directory `path` itself (opened read-only, never
    /// following a symlink), without waiting. Returns the locked descriptor, or `nil` when
    /// another open file description holds a lock on it. Locking the directory costs no file.
    public static func tryLockDirectory(_ path: String) throws(Errno) -> FileDescriptor? {
        let file = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        guard try lockWithoutWaiting(file) else { return nil }
        return consume file
    }

    /// Whether some process holds a lock on `path`: tries to take the lock without waiting
    /// on a fresh open file description and, when that succeeds, releases it at once.
    ///
    /// `false` when the file does not exist or cannot be opened (a symbolic link is not
    /// followed). While the probe holds the lock (microseconds), a concurrent `tryLock`
    /// on the same file may see it taken; callers that race like that should retry.
    public static func isHeld(_ path: String) -> Bool {
        guard let file = try? FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) else {
            return false
        }
        guard let gotIt = try? lockWithoutWaiting(file) else { return false }
        return !gotIt
    }

    /// `flock(LOCK_EX | LOCK_NB)`: `true` when locked, `false` when someone else holds it.
    private static func lockWithoutWaiting(_ file: borrowing FileDescriptor) throws(Errno) -> Bool {
        do {
            _ = try retryingInterrupts { flock(file.rawValue, LOCK_EX | LOCK_NB) }
            return true
        } catch .wouldBlock {
            return false
        }
    }
}
