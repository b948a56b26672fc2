/// How one run of an agent was confined, as meta.json's `confinement` and `swarm status`
/// write it: `landlock:ABI`, `off` (swarm.json turned it off), `none` (the kernel has no
/// Landlock).
public enum RunConfinement: Sendable, Equatable, CustomStringConvertible {
    case landlock(abi: Int)
    case off
    case none

    public var description: String {
        switch self {
        case .landlock(let abi): "landlock:\(abi)"
        case .off: "off"
        case .none: "none"
        }
    }

    /// The confinement in its word form; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "off": self = .off
        case "none": self = .none
        default:
            guard text.hasPrefix("landlock:"), let abi = Int(text.dropFirst("landlock:".count)), abi > 0
            else {
                return nil
            }
            self = .landlock(abi: abi)
        }
    }
}
