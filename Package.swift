// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swarm",
    products: [
        .executable(name: "swarm", targets: ["swarm"]),
        .executable(name: "swarm-bench", targets: ["swarm-bench"]),
    ],
    targets: [
        .target(
            name: "CSwarmShims",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(name: "SwarmSystem", dependencies: ["CSwarmShims"]),
        .target(name: "SwarmProtocol"),
        .target(name: "SwarmCore", dependencies: ["SwarmProtocol"]),
        .target(name: "SwarmScaffold"),
        .target(name: "SwarmReport", dependencies: ["SwarmCore", "SwarmProtocol"]),
        .target(
            name: "SwarmRuntime",
            dependencies: ["SwarmSystem", "SwarmProtocol", "SwarmCore", "SwarmScaffold"]
        ),
        .target(
            name: "SwarmCLI",
            dependencies: [
                "SwarmRuntime", "SwarmSystem", "SwarmProtocol", "SwarmCore", "SwarmScaffold", "SwarmReport",
            ]),
        // A release `swarm` carries the Swift runtime inside it, so every command an agent runs
        // (`swarm progress`, `swarm ask`, the hooks) starts without loading shared libraries.
        .executableTarget(
            name: "swarm", dependencies: ["SwarmCLI"],
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        .executableTarget(name: "swarm-bench", dependencies: ["SwarmSystem", "SwarmProtocol"]),
        .testTarget(name: "SwarmSystemTests", dependencies: ["SwarmSystem"]),
        .testTarget(name: "SwarmProtocolTests", dependencies: ["SwarmProtocol"], exclude: ["Fixtures"]),
        .testTarget(name: "SwarmCoreTests", dependencies: ["SwarmCore", "SwarmProtocol"]),
        .testTarget(
            name: "SwarmRuntimeTests",
            dependencies: ["SwarmRuntime", "SwarmSystem", "SwarmProtocol", "SwarmCore", "SwarmScaffold"]),
        .testTarget(name: "SwarmCLITests", dependencies: ["SwarmCLI"]),
        .testTarget(name: "SwarmReportTests", dependencies: ["SwarmReport", "SwarmCore", "SwarmProtocol"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SwarmSystem"]),
    ],
    swiftLanguageModes: [.v6]
)
