import CSwarmShims
@preconcurrency import Glibc

/// The environment of this process.
public enum ProcessEnvironment {
    /// A copy of `environ` as it is now. Take it once at start and build each child's
    /// environment from it explicitly; never let children inherit whatever is current.
    /// For a name that appears twice, the first occurrence wins (as `getenv` does).
    public static func snapshot() -> [String: String] {
        var result: [String: String] = [:]
        guard var cursor = swarm_environ() else { return result }
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals])
                if result[name] == nil { result[name] = String(text[text.index(after: equals)...]) }
            }
            cursor += 1
        }
        return result
    }
}

/// The identity the process runs as.
public enum Users {
    /// Whether the effective user is root (uid 0), which bypasses file permissions.
    public static var isRoot: Bool {
        geteuid() == 0
    }
}
