import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// The `swarm` program: parse, run one command, map the outcome to an exit status.
public enum SwarmCommand {
    /// Runs `swarm` with `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        // First, before swarm changes any process state the confined command would inherit.
        if arguments.first == "confine" { return ConfineCommand.main(Array(arguments.dropFirst())) }
        Signal.ignore(Signal.pipe)
        let invocation: Invocation
        switch ArgumentParser.parse(arguments, specs: CommandTable.all) {
        case .success(let parsed):
            invocation = parsed
        case .failure(let error):
            Output.error(error.message)
            if let command = error.command, let spec = CommandTable.spec(command) {
                Output.errorLine("usage: \(spec.usage)")
            }
            return 2
        }
        if invocation.wantsHelp || invocation.command == "help" {
            return help(invocation)
        }
        let context = Context(invocation: invocation, environment: ProcessEnvironment.snapshot())
        do {
            try run(context)
            return 0
        } catch let error as UsageError {
            Output.error(error.message)
            return 2
        } catch let error as SwarmError {
            Output.error(error.message)
            return 1
        } catch {
            Output.error("\(error)")
            return 1
        }
    }

    private static func help(_ invocation: Invocation) -> Int32 {
        let topic = invocation.command == "help" ? invocation.positionals.first : invocation.command
        guard let topic else {
            Output.print(CommandTable.overview)
            return 0
        }
        guard let spec = CommandTable.spec(topic) else {
            Output.error("no command \"\(topic)\"; see `swarm help`")
            return 2
        }
        Output.print(CommandTable.help(spec))
        return 0
    }

    private static func run(_ context: Context) throws {
        switch context.invocation.command {
        case "init": try InitCommand.run(context)
        case "run": try RunCommand.run(context)
        case "submit": try SubmitCommand.run(context)
        case "status": try StatusCommand.run(context)
        case "tree": try TreeCommand.run(context)
        case "top": try TopCommand.run(context)
        case "alerts": try AlertsCommand.run(context)
        case "answer": try AnswerCommand.run(context)
        case "say": try SayCommand.run(context)
        case "kill": try ControlCommand.run(context, verb: .kill)
        case "retry": try ControlCommand.run(context, verb: .retry)
        case "ack": try ControlCommand.run(context, verb: .ack)
        case "logs": try LogsCommand.run(context)
        case "upstreams": try UpstreamsCommand.run(context)
        case "schedules": try SchedulesCommand.run(context)
        case "upstream": try UpstreamsCommand.reset(context)
        case "check": try CheckCommand.run(context)
        case "diff": try BranchCommand.diff(context)
        case "merge": try BranchCommand.merge(context)
        case "pr": try BranchCommand.pullRequest(context)
        case "gc": try BranchCommand.collect(context)
        case "demo": try DemoCommand.run(context)
        case "report": try ReportCommand.run(context)
        case "man": try ManCommand.run(context)
        case "completions": try CompletionsCommand.run(context)
        case "progress": try AgentCommands.progress(context)
        case "result": try AgentCommands.result(context)
        case "spawn": try AgentCommands.spawn(context)
        case "ask": try AgentCommands.ask(context)
        case "messages": try MessagesCommand.run(context)
        case "sim": try SimAgent.run(context)
        default: throw UsageError("unknown command \(context.invocation.command)")
        }
    }
}

/// What every command gets: its parsed arguments and the environment it started with.
public struct Context: Sendable {
    public var invocation: Invocation
    public var environment: [String: String]

    /// The workspace this command works on (CLI.md's lookup order).
    public func workspace() throws(SwarmError) -> Workspace {
        try Workspace.locate(explicit: invocation.root, environment: environment)
    }

    public func option(_ name: String) -> String? { invocation.option(name) }
    public func has(_ flag: String) -> Bool { invocation.has(flag) }
    public var positionals: [String] { invocation.positionals }
}

/// Writing to the terminal: plain text in a pipe or with NO_COLOR, colour on a terminal.
public enum Output {
    public static func print(_ text: String) {
        StandardStreams.write(1, text.hasSuffix("\n") ? text : text + "\n")
    }

    public static func error(_ message: String) {
        errorLine("swarm: " + message)
    }

    public static func errorLine(_ line: String) {
        StandardStreams.write(2, line + "\n")
    }

    /// True when stdout is a terminal, NO_COLOR is unset and the terminal is not dumb.
    public static func colourEnabled(_ environment: [String: String]) -> Bool {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return Terminal.isTerminal(1)
    }
}
