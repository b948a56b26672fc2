/// How one run of an agent was confined, as meta.json's `confinement` and `swarm status`
/// write it: `landlock:ABI` followed by the restrictions beyond writing that took effect
/// (`reads`, `net`, `signals`, e.g. `landlock:7 reads net signals`), `off` (swarm.json turned
/// it off), `none` (the kernel has no Landlock).
public enum RunConfinement: Sendable, Equatable, CustomStringConvertible {
    case landlock(abi: Int, restrictions: Restrictions = [])
    case off
    case none

    /// What a Landlock confinement restricts besides writing.
    public struct Restrictions: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// Reading is limited to an allowlist (`reads: system`).
        public static let reads = Restrictions(rawValue: 1 << 0)
        /// TCP connects are limited to listed ports (`network:`).
        public static let network = Restrictions(rawValue: 1 << 1)
        /// Signals and abstract Unix sockets cannot reach outside the agent's own domain.
        public static let signals = Restrictions(rawValue: 1 << 2)

        /// Each restriction with its word, in the order they are written.
        static let words: [(Restrictions, String)] = [
            (.reads, "reads"), (.network, "net"), (.signals, "signals"),
        ]
    }

    public var description: String {
        switch self {
        case .landlock(let abi, let restrictions):
            (["landlock:\(abi)"] + Restrictions.words.filter { restrictions.contains($0.0) }.map(\.1))
                .joined(separator: " ")
        case .off: "off"
        case .none: "none"
        }
    }

    /// The confinement in its word form; nil for anything else.
    public init?(_ text: String) {
        let words = text.split(separator: " ").map(String.init)
        switch words.first {
        case "off" where words.count == 1: self = .off
        case "none" where words.count == 1: self = .none
        case let first?:
            guard first.hasPrefix("landlock:"), let abi = Int(first.dropFirst("landlock:".count)), abi > 0
            else {
                return nil
            }
            var restrictions: Restrictions = []
            for word in words.dropFirst() {
                guard let known = Restrictions.words.first(where: { $0.1 == word }) else { return nil }
                restrictions.insert(known.0)
            }
            self = .landlock(abi: abi, restrictions: restrictions)
        case nil:
            return nil
        }
    }
}
