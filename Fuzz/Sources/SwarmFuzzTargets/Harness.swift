// The libFuzzer entry point. One binary holds every target; SWARM_FUZZ_TARGET picks the one
// this process runs, so each parser is fuzzed on its own (scripts/fuzz runs them one by one).
// A broken invariant calls fatalError, which libFuzzer reports as a crash and saves the input.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The fuzz targets, by the name SWARM_FUZZ_TARGET and Fuzz/Seeds/<name>/ use.
enum FuzzTarget: String, CaseIterable, Sendable {
    case json
    case frontmatter
    case taskMarkdown = "task-md"
    case taskJSON = "task-json"
    case template
    case config
    case contract
    case violations
    case progress
    case duration
    case timestamp
    case placeholders
    case classifier
    case textdecoding
    case slurmjob

    func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Targets.json(bytes)
        case .frontmatter: Targets.frontMatter(bytes)
        case .taskMarkdown: Targets.task(bytes, fileName: "fuzz.md")
        case .taskJSON: Targets.task(bytes, fileName: "fuzz.json")
        case .template: Targets.template(bytes)
        case .config: Targets.config(bytes)
        case .contract: Targets.contract(bytes)
        case .violations: Targets.violations(bytes)
        case .progress: Targets.progress(bytes)
        case .duration: Targets.duration(bytes)
        case .timestamp: Targets.timestamp(bytes)
        case .placeholders: Targets.placeholders(bytes)
        case .classifier: Targets.classifier(bytes)
        case .textdecoding: Targets.textDecoding(bytes)
        case .slurmjob: Targets.slurmJob(bytes)
        }
    }
}

/// The target named by SWARM_FUZZ_TARGET; exits with the list of names when it is missing.
let selectedTarget: FuzzTarget = {
    if let raw = getenv("SWARM_FUZZ_TARGET"), let target = FuzzTarget(rawValue: String(cString: raw)) {
        return target
    }
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
    let message = Array("set SWARM_FUZZ_TARGET to one of: \(names)\n".utf8)
    _ = write(2, message, message.count)
    _exit(2)
}()

/// Called by libFuzzer once, before the first input: fails early on a bad SWARM_FUZZ_TARGET.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    _ = selectedTarget
    return 0
}

/// Called by libFuzzer for every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selectedTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// False when SWARM_FUZZ_CRASH_ONLY=1: then only traps, hangs and memory errors count, so a
/// target whose invariant is known to break can still be fuzzed for crashes.
let invariantsChecked: Bool = {
    guard let raw = getenv("SWARM_FUZZ_CRASH_ONLY") else { return true }
    return String(cString: raw) != "1"
}()

/// Stops the process (a crash for libFuzzer) when an invariant does not hold.
func check(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if invariantsChecked, !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// An invariant that is broken whenever this is reached.
func fail(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    check(false, message(), file: file, line: line)
}

/// `text` in quotes with escapes, cut to 200 characters, for invariant messages.
func show(_ text: String) -> String {
    String(text.debugDescription.prefix(200))
}
