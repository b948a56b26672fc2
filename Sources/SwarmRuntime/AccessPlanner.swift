import SwarmProtocol
import SwarmSystem

/// The pure part of what a confined run may read and where it may connect (the `reads:` and
/// `network:` rules of its task, template and swarm.json). No file is touched here; the
/// system folders are listed once, by `systemFolders`.
public enum AccessPlanner {
    /// The folders of programs and libraries every `reads: system` agent may read and
    /// execute, besides `/etc` (see `systemFolders`). `/var`, `/home`, `/root`, `/tmp`, `/run`
    /// and `/mnt` are left out: they hold other people's files, secrets and sockets.
    static let programFolders = [
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/nix/store", "/snap",
        "/proc", "/sys", "/dev",
    ]

    /// Entries of `/etc` that stay unreadable under `reads: system`: keys and password
    /// hashes. Everything else there (resolv.conf, the CA certificates, passwd, ld.so.cache,
    /// gitconfig...) is readable.
    static let hiddenInEtc: Set<String> = [
        "ssh", "shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d", "ssl", "security",
    ]
    /// Entries of `/etc/ssl` that stay unreadable: private keys.
    static let hiddenInSSL: Set<String> = ["private"]

    /// `programFolders`, then every entry of `/etc` but `hiddenInEtc`, and of `/etc/ssl` but
    /// `hiddenInSSL`, as listed now (an entry made later is not readable until the daemon
    /// restarts).
    public static func systemFolders(
        listing: (String) -> [String] = { (try? FileSystem.entries(of: $0))?.map(\.name) ?? [] }
    ) -> [String] {
        let etc = listing("/etc").filter { !hiddenInEtc.contains($0) }.sorted().map { "/etc/" + $0 }
        let ssl = listing("/etc/ssl").filter { !hiddenInSSL.contains($0) }.sorted().map { "/etc/ssl/" + $0 }
        return programFolders + etc + ssl
    }

    /// The rule a run follows: the template's (or swarm.json's), narrowed by the task's.
    static func readRule(task: ReadRule?, template: ReadRule?, workspace: ReadRule) -> ReadRule {
        (template ?? workspace).narrowed(by: task)
    }

    /// The rule a run follows: the template's (or swarm.json's), narrowed by the task's.
    static func networkRule(task: NetworkRule?, template: NetworkRule?, workspace: NetworkRule) -> NetworkRule
    {
        (template ?? workspace).narrowed(by: task)
    }

    /// The paths beyond the system folders a `reads: system` run may read: the workspace,
    /// the folders on its PATH (and the tool folder around each `bin`, `sbin` or `shims`
    /// folder, so that `~/.pyenv/shims` finds `~/.pyenv/versions`), and the rule's extra paths
    /// (`resolve` turns them into absolute ones). Its writable paths need no rule here: they
    /// are readable as well. Nil for `reads: all`.
    static func readable(
        _ rule: ReadRule, root: String, environment: [String], home: String?, resolve: (String) -> String
    ) -> [String]? {
        guard case .system(let extra) = rule else { return nil }
        var paths = [root]
        let path = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        for folder in path.split(separator: ":").map(String.init) where folder.hasPrefix("/") {
            paths.append(folder)
            let parent = parentFolder(folder)
            let last = folder.split(separator: "/").last.map(String.init) ?? ""
            if ["bin", "sbin", "shims"].contains(last), parent != "/", parent != home {
                paths.append(parent)
            }
        }
        paths += extra.map(resolve)
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    /// The TCP ports a run may connect to: nil for `network: any`, none for `none`, else the
    /// listed ports and the port of every upstream URL in its environment (`*_BASE_URL`,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, in either case; 443 for https, 80 for http
    /// when the URL names no port).
    static func connectPorts(_ rule: NetworkRule, environment: [String]) -> [UInt16]? {
        switch rule {
        case .any: return nil
        case .none: return []
        case .ports(let listed):
            var ports = listed
            for entry in environment {
                let name = entry.prefix { $0 != "=" }.uppercased()
                guard
                    name.hasSuffix("_BASE_URL") || ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"].contains(name),
                    let port = port(ofURL: String(entry.drop { $0 != "=" }.dropFirst()))
                else { continue }
                if !ports.contains(port) { ports.append(port) }
            }
            return ports
        }
    }

    /// The port of `url` (`scheme://[user@]host[:port][/...]`), or the scheme's default
    /// (https 443, http 80); nil for anything else.
    static func port(ofURL url: String) -> UInt16? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let hostEnd = authority.hasPrefix("[") ? authority.firstIndex(of: "]") : authority.startIndex
        if let hostEnd, let colon = authority[hostEnd...].lastIndex(of: ":") {
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), let port = UInt16(digits),
                port > 0
            else {
                return nil
            }
            return port
        }
        switch scheme {
        case "https": return 443
        case "http": return 80
        default: return nil
        }
    }

    /// The options of `swarm confine` that apply `rules` on another machine (a Slurm node),
    /// where the system folders are listed again (`--read-system`).
    static func confineOptions(_ rules: Landlock.Rules) -> [String] {
        var options = rules.writable.flatMap { ["--write", $0] }
        if let readable = rules.readable {
            options += ["--read-system"] + readable.flatMap { ["--read", $0] }
        }
        if let ports = rules.connectPorts {
            options += ports.isEmpty ? ["--no-connect"] : ports.flatMap { ["--connect", String($0)] }
        }
        if rules.scoped { options.append("--scoped") }
        return options
    }

    private static func parentFolder(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/"), slash != trimmed.startIndex else { return "/" }
        return String(trimmed[..<slash])
    }
}
