import SwarmProtocol

/// The numbers the scheduler enforces, taken from swarm.json.
public struct Limits: Sendable, Equatable {
    public var maxSlots: Int
    public var reserve: Int
    public var maxDepth: Int
    public var heartbeat: Millis
    public var investigateAfter: Int
    public var killAfter: Int
    public var spinAfter: Int
    public var loopAfter: Int
    public var orphanAfter: Int
    /// Caps on the slots top-level agents of one role may hold at once.
    public var roleSlots: [String: Int]
    /// The upstreams in order of preference; empty when agents inherit the daemon's environment.
    public var upstreams: [UpstreamSpec] = []
    public var breaker = BreakerPolicy()

    public init(
        maxSlots: Int = 12, reserve: Int = 2, maxDepth: Int = 3, heartbeat: Millis = 900_000,
        investigateAfter: Int = 2, killAfter: Int = 3, spinAfter: Int = 3, loopAfter: Int = 3,
        orphanAfter: Int = 3, roleSlots: [String: Int] = [:]
    ) {
        self.maxSlots = maxSlots
        self.reserve = reserve
        self.maxDepth = maxDepth
        self.heartbeat = heartbeat
        self.investigateAfter = investigateAfter
        self.killAfter = killAfter
        self.spinAfter = spinAfter
        self.loopAfter = loopAfter
        self.orphanAfter = orphanAfter
        self.roleSlots = roleSlots
    }

    /// The limits a configuration asks for; `heartbeat` overrides the configured interval.
    public init(_ config: SwarmConfig, heartbeat: Millis? = nil) {
        self.init(
            maxSlots: config.maxSlots, reserve: config.reserve, maxDepth: config.maxDepth,
            heartbeat: heartbeat ?? config.heartbeatMilliseconds,
            investigateAfter: config.investigateAfter, killAfter: config.killAfter,
            spinAfter: config.spinAfter, loopAfter: config.loopAfter,
            orphanAfter: config.orphanAfter, roleSlots: config.roleSlots)
        upstreams = config.upstreams.map {
            UpstreamSpec(
                name: $0.name, domain: $0.domain, concurrency: $0.concurrency, context: $0.context,
                resumesAfterLimit: $0.resumeAfterLimit)
        }
        breaker.consecutiveFailures = config.breakerFailures
        breaker.openFor = config.breakerOpenForMilliseconds
        breaker.maxOpenFor = config.breakerMaxOpenForMilliseconds
    }

    /// Slots at the top that work of this priority may fill.
    public func topCapacity(for priority: Priority) -> Int {
        priority == .urgent ? maxSlots : max(0, maxSlots - reserve)
    }
}

/// A small deterministic random source (SplitMix64), so that backoff jitter is reproducible
/// in simulation from a seed.
public struct SplitMix64: Sendable, Equatable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0...bound`.
    public mutating func next(upTo bound: Int64) -> Int64 {
        bound <= 0 ? 0 : Int64(next() % UInt64(bound + 1))
    }
}
