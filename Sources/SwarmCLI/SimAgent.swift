import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm sim`: the built-in stand-in agent. It follows the protocol exactly (progress lines,
/// children, results, questions) and fails in every way a real agent does, as its task's
/// `sim.*` keys say. It powers `swarm demo`, the tests and the benchmarks.
enum SimAgent {
    /// The `sim.*` settings of one run.
    struct Settings {
        var steps = 3
        var interval: Int64 = 50
        var children = 0
        var childSteps = 3
        var childTemplate = "sim-worker"
        var childChildren: Int?
        var childSlots: Int?
        var failure: String?
        var failTimes: Int?
        var question: String?
        var call: String?
        var tokensPerStep: Int64 = 0

        init(_ keys: [String: String]) throws {
            func int(_ key: String) throws -> Int? {
                guard let text = keys[key] else { return nil }
                guard let n = Int(text), n >= 0 else { throw SwarmError("\(key): \(text) is not a whole number") }
                return n
            }
            steps = try int("sim.steps") ?? steps
            if let text = keys["sim.interval"] {
                guard let ms = DurationText.parse(text) else { throw SwarmError("sim.interval: \(text) is not a duration") }
                interval = ms
            }
            children = try int("sim.children") ?? 0
            childSteps = try int("sim.child-steps") ?? childSteps
            childTemplate = keys["sim.child-template"] ?? childTemplate
            childChildren = try int("sim.child-children")
            childSlots = try int("sim.child-slots")
            failure = keys["sim.fail"]
            failTimes = try int("sim.fail-times")
            question = keys["sim.ask"]
            call = keys["sim.call"]
            tokensPerStep = Int64(try int("sim.tokens-per-step") ?? 0)
            if let failure, !SimAgent.failures.contains(failure) {
                throw SwarmError("sim.fail: \(failure) is not one of \(SimAgent.failures.sorted().joined(separator: ", "))")
            }
        }
    }

    static let failures: Set<String> = [
        "exit", "contract", "hang", "spin", "error", "upstream-429", "upstream-529", "upstream-500", "auth",
    ]

    static func run(_ context: Context) throws {
        let agent = try AgentEnvironment(context.environment)
        let keys = try taskKeys(agent.directory)
        let settings = try Settings(keys)
        let attempt = Int(context.environment["SWARM_ATTEMPT"] ?? "1") ?? 1
        let failing = settings.failure != nil && attempt <= (settings.failTimes ?? Int.max)
        let record = MetaStore.read(agent.files.meta)
        if record?.kind == .orchestrator {
            try orchestrate(agent, settings, record: record)
        } else {
            try work(agent, settings, failing: failing ? settings.failure : nil, attempt: attempt, environment: context.environment)
        }
    }

    /// The keys of the agent's own task (source.md or source.json in its folder).
    static func taskKeys(_ directory: String) throws -> [String: String] {
        for name in ["source.md", "source.json"] {
            guard let bytes = try? FileSystem.readFile(directory + "/" + name, limit: 1 << 20) else { continue }
            let task = try TaskParser.parse(fileName: name, bytes: bytes)
            var keys: [String: String] = [:]
            for field in task.fields { keys[field.key] = field.value }
            return keys
        }
        return [:]
    }

    static func progress(_ agent: AgentEnvironment, _ outputs: Int?, _ status: String, tokens: Int64? = nil) {
        let line = ProgressLine(
            timeMilliseconds: Clock.wallMilliseconds(), outputs: outputs, status: status, tokens: tokens)
        try? FileSystem.append(agent.files.progress, Array(line.formatted().utf8))
    }

    static func writeResult(_ agent: AgentEnvironment, _ object: JSONObject) throws {
        let text = JSON.encode(.object(object), pretty: true, sortKeys: false)
        do {
            try FileSystem.writeAtomically(agent.files.results, Array(text.utf8))
        } catch {
            throw SwarmError("cannot write \(agent.files.results): \(error)")
        }
    }

    private static func work(
        _ agent: AgentEnvironment, _ settings: Settings, failing: String?, attempt: Int,
        environment: [String: String]
    ) throws {
        switch failing {
        case "hang"?:
            Clock.sleepForever()
        case "spin"?:
            while true {
                progress(agent, 0, "thinking about the problem")
                Clock.sleep(milliseconds: max(settings.interval, 10))
            }
        case "exit"?:
            progress(agent, 0, "starting, about to crash (sim.fail: exit, attempt \(attempt))")
            throw SwarmError("sim.fail: exit: crashing on purpose without a result (attempt \(attempt))")
        case let upstream? where upstream.hasPrefix("upstream-") || upstream == "auth":
            failLikeAgentCLI(status: upstream == "auth" ? 401 : Int(upstream.dropFirst("upstream-".count)) ?? 500)
        default:
            break
        }
        for step in 1...max(settings.steps, 1) where settings.steps > 0 {
            if settings.call == "api" {
                try APICall.call(environment: environment)
            }
            progress(
                agent, step, "step \(step) of \(settings.steps)",
                tokens: settings.tokensPerStep > 0 ? Int64(step) * settings.tokensPerStep : nil)
            Clock.sleep(milliseconds: settings.interval)
        }
        var result = JSONObject()
        if let question = settings.question {
            progress(agent, settings.steps, "waiting for an answer: \(question)")
            try FileSystem.writeAtomically(agent.files.question, Array((question + "\n").utf8))
            let answer = try AgentCommands.waitForAnswer(agent.files, timeout: nil)
            progress(agent, settings.steps + 1, "got the answer")
            result["answer"] = .string(answer)
        }
        switch failing {
        case "contract"?:
            result["status"] = .string("ok")
            result["summary"] = .integer(42)
            result["note"] = .string("sim.fail: contract: summary is a number on purpose")
        case "error"?:
            result["status"] = .string("error")
            result["error"] = .string("sim.fail: error: the task could not be done (attempt \(attempt))")
        default:
            result["status"] = .string("ok")
            result["summary"] = .string("sim worker \(agent.id) did \(settings.steps) steps")
            result["outputs"] = .integer(Int64(settings.steps))
            if settings.tokensPerStep > 0 { result["tokens"] = .integer(Int64(settings.steps) * settings.tokensPerStep) }
        }
        try writeResult(agent, result)
    }

    /// Fails the way Claude Code's `-p --output-format json` does when its API answers with
    /// `status`: a JSON result with is_error on stdout, exit status 1.
    private static func failLikeAgentCLI(status: Int) -> Never {
        let kind = APICall.errorType(status)
        StandardStreams.write(
            1,
            "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"api_error_status\":\(status),"
                + "\"result\":\"API Error: \(status) {\\\"type\\\":\\\"error\\\",\\\"error\\\":{\\\"type\\\":\\\"\(kind)\\\"}}\"}\n")
        Processes.exit(1)
    }

    private static func orchestrate(_ agent: AgentEnvironment, _ settings: Settings, record: AgentRecord?) throws {
        let marker = agent.directory + "/sim-requested"
        if !FileSystem.exists(marker) {
            try requestChildren(agent, settings)
            try FileSystem.writeAtomically(marker, Array("\(settings.children)\n".utf8))
            progress(agent, 0, "requested \(settings.children) children")
            if settings.children > 0 { return }
        }
        var fulfilled = 0
        var settled = 0
        if let bytes = try? FileSystem.readFile(agent.files.fanIn, limit: 16 << 20),
            let summary = try? JSON.parse(bytes), let children = summary["children"]?.arrayValue
        {
            settled = children.count
            fulfilled = children.filter { $0["status"]?.stringValue == "fulfilled" }.count
        }
        guard settled >= settings.children else { return }
        progress(agent, fulfilled, "all \(settled) children settled, \(fulfilled) fulfilled")
        var result = JSONObject()
        result["status"] = .string("ok")
        result["summary"] = .string("sim orchestrator \(agent.id): \(fulfilled) of \(settings.children) children fulfilled")
        result["outputs"] = .integer(Int64(fulfilled))
        try writeResult(agent, result)
    }

    private static func requestChildren(_ agent: AgentEnvironment, _ settings: Settings) throws {
        guard settings.children > 0 else { return }
        let folder = agent.files.spawn
        try? FileSystem.makeDirectory(folder)
        let orchestratorChild = settings.childTemplate.contains("orchestrator")
        for k in 1...settings.children {
            let id = "\(agent.id.prefix(48))-\(k)"
            var text = "---\nid: \(id)\nrole: \(orchestratorChild ? "meta" : "worker")\ntemplate: \(settings.childTemplate)\n"
            text += "sim.steps: \(settings.childSteps)\nsim.interval: \(DurationText.format(settings.interval))\n"
            if let n = settings.childChildren { text += "sim.children: \(n)\nsim.child-steps: \(settings.childSteps)\n" }
            if let slots = settings.childSlots { text += "slots: \(slots)\n" }
            if settings.tokensPerStep > 0 { text += "sim.tokens-per-step: \(settings.tokensPerStep)\n" }
            text += "---\nChild \(k) of \(agent.id): do your share of the work and report.\n"
            do {
                try FileSystem.writeAtomically(folder + "/" + id + ".md", Array(text.utf8))
            } catch {
                throw SwarmError("cannot write a spawn request into \(folder): \(error)")
            }
        }
    }
}
