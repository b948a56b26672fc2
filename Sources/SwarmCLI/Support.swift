import SwarmRuntime
import SwarmSystem

/// Waits on inotify for changes in a few folders and calls back after each batch; used by the
/// `--follow` read commands. Runs until interrupted.
enum FileWatcher {
    static func follow(_ directories: [String], _ changed: () -> Void) throws {
        do {
            let inotify = try Inotify()
            let epoll = try Epoll()
            for directory in directories {
                _ = try inotify.add(directory, mask: [.closeWrite, .modify, .movedTo, .create])
            }
            try epoll.add(inotify.rawValue, token: 1)
            while true {
                _ = try epoll.wait(timeoutMilliseconds: 1000)
                _ = try inotify.read()
                changed()
            }
        } catch {
            throw SwarmError("cannot follow \(directories.joined(separator: ", ")): \(error)")
        }
    }
}
