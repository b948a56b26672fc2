// swift-tools-version: 6.0
// Fuzz targets for the SwarmProtocol parsers (see README.md; run with scripts/fuzz).
//
// The main package has no library product, and SwiftPM only lets another package depend on
// products, so `.package(path: "..")` cannot reach SwarmProtocol. Instead Sources/SwarmProtocol
// here is a symlink to ../../Sources/SwarmProtocol: the same files, compiled with the fuzzer
// instrumentation. (If the main package ever adds
// `.library(name: "SwarmProtocol", targets: ["SwarmProtocol"])`, replace the symlinked target
// by `.package(path: "..")` and `.product(name: "SwarmProtocol", package: "main")`.)
import PackageDescription

let package = Package(
    name: "swarm-fuzz",
    targets: [
        .target(name: "SwarmProtocol"),
        // LLVMFuzzerTestOneInput and the checks, one function per parser.
        .target(name: "SwarmFuzzTargets", dependencies: ["SwarmProtocol"]),
        // The linked fuzzer binary (C, so that libFuzzer's main is the entry point).
        .executableTarget(name: "SwarmFuzz", dependencies: ["SwarmFuzzTargets"]),
    ],
    swiftLanguageModes: [.v6]
)
