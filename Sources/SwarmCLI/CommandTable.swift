/// Every command of `swarm`, its usage and its help text.
public enum CommandTable {
    public static let operatorCommands: [CommandSpec] = [
        CommandSpec(
            "init", "swarm init [DIR]", "scaffold a workspace (never overwrites a file)",
            positionals: 0...1,
            details: "Creates AGENTS.md, CLAUDE.md, HEARTBEAT.md, roles/, templates/, swarm/swarm.json, swarm/inbox/ and swarm/schedules/ in DIR (default: the current folder). Existing files are left as they are."),
        CommandSpec(
            "run", "swarm run [--until-idle] [--heartbeat DUR] [--poll DUR] [--log-format text|json] [--verbose]",
            "run the daemon in the foreground", flags: ["--until-idle", "--verbose"],
            options: ["--heartbeat", "--poll", "--log-format"],
            details: "Watches swarm/inbox/, starts agents within the slot budgets and applies the heartbeat rules of HEARTBEAT.md. --until-idle exits 0 as soon as the inbox is empty, no agent is queued, running or waiting, and nothing the kernel already reported is left unread (a task an agent drops before it ends is still taken; one dropped after the run exited waits for the next). --poll DUR also scans the whole tree at that interval, for network file systems where inotify sees nothing written on other machines (the daemon falls back to polling by itself, with a watch-degraded alert, when the kernel runs out of inotify watches; with a Slurm launcher it polls every second unless --poll says otherwise). SWARM_LAUNCHER=local|slurm|slurm-srun in the environment overrides swarm.json's \"launcher\" for this daemon. SIGTERM or SIGINT stop the daemon; running agents keep running and are adopted by the next daemon. SIGHUP reloads swarm.json."),
        CommandSpec(
            "submit",
            "swarm submit [--role R] [--template T] [--priority urgent|normal|background] [--slots N] [--id ID] (FILE | -m TEXT)",
            "put one task into the inbox atomically; prints its id",
            options: ["--role", "--template", "--priority", "--slots", "--id", "-m"], positionals: 0...1),
        CommandSpec(
            "status", "swarm status [ID] [--json]", "every agent (or one): state, budget, progress",
            flags: ["--json"], positionals: 0...1),
        CommandSpec(
            "tree", "swarm tree [--json]", "the hierarchy with each subtree's budget used/total",
            flags: ["--json"]),
        CommandSpec(
            "top", "swarm top", "a live view of every agent that redraws when the tree changes",
            details: "Keys: j/k or the arrows select an agent, K kills it, a answers its question, l shows its last log lines, q or Ctrl-C quits. In a pipe or a dumb terminal it prints one frame and exits."),
        CommandSpec(
            "alerts", "swarm alerts [--follow] [--json]", "the alerts, oldest first",
            flags: ["--json", "--follow"]),
        CommandSpec(
            "answer", "swarm answer ID TEXT", "answer an agent's question", positionals: 2...2,
            joinsText: true),
        CommandSpec(
            "say", "swarm say [--all | --children-of ID] [ID] TEXT",
            "send a message to a running or queued agent (or to several)",
            flags: ["--all"], options: ["--children-of"], positionals: 1...2, joinsText: true,
            details: "Writes the TEXT (- reads it from standard input) as one file in agents/ID/messages/, atomically, and exits 0 once it is queued. The agent gets it the best way its template has: Claude Code templates with messages: hooks after its next tool call, or when it is about to stop; any other agent when it runs swarm messages; and an agent that is not running (queued, retrying, an idle orchestrator, which is woken with message in SWARM_WAKE) in the brief of its next run. --all sends it to every agent that has not ended; --children-of ID to every child of ID that has not ended. Exit status 2 for an unknown agent, one that has ended, or a message that is empty, not text, or over 64 KiB. swarm status ID shows each message's receipt: delivered (when and how), pending, or undeliverable (why)."),
        CommandSpec("kill", "swarm kill ID", "kill an agent's whole process tree and free its slot", positionals: 1...1),
        CommandSpec("retry", "swarm retry ID", "queue a failed or dead-lettered task again", positionals: 1...1),
        CommandSpec("ack", "swarm ack ID", "mark a finished agent's result as read (consumed)", positionals: 1...1),
        CommandSpec(
            "schedules", "swarm schedules [--json]",
            "each schedule: its period, next firing, last firing and skips",
            flags: ["--json"],
            details: "Lists every schedule file swarm/schedules/NAME.md (a task with every: DURATION or every: N heartbeats, and optionally when-changed: PATH... and catch-up: skip|once). Each firing is the task NAME-<n>, submitted through the inbox; swarm status shows it like any agent. NEXT is when the running daemon fires it next at the earliest (with no daemon: when one started now would); LAST is the last firing and its state (pending while its task file waits for intake, rejected when intake refused it); SKIPPED counts the slots that did not fire: overlap (the last firing had not settled), unchanged (nothing under when-changed: changed; a missing path counts as unchanged), blocked (intake would have rejected the firing: its template, role or an input is missing) and missed (passed while no daemon watched, with catch-up: skip). A broken file is listed with what is wrong; it does not fire until fixed. --json prints {\"daemon\": BOOL, \"schedules\": [...]} with name, file, every, period_ms, catch_up, when_changed, missing, next, last {id, state, reason}, firings, skips {overlap, unchanged, blocked, missed}, problem and note."),
        CommandSpec(
            "upstreams", "swarm upstreams [--json]",
            "each upstream's health, breaker, concurrency, status page, parking and recent errors",
            flags: ["--json"]),
        CommandSpec(
            "upstream", "swarm upstream reset NAME", "put a disabled, open or parked upstream back in service",
            positionals: 2...2),
        CommandSpec(
            "logs", "swarm logs ID [--follow]", "an agent's progress, stdout and stderr",
            flags: ["--follow"], positionals: 1...1),
        CommandSpec(
            "diff", "swarm diff ID", "what an agent changed on its branch, against where its work started",
            positionals: 1...1,
            details: "For an agent whose task or template names repo:. Prints git's diff of swarm/ID against the commit its current attempt started from (after a conflict, the target's head it was reset to)."),
        CommandSpec(
            "merge", "swarm merge ID", "merge a done agent's kept result into its parent's branch",
            positionals: 1...1,
            details: "The same merge the runtime makes: git merge-tree, the verify: check in a temporary worktree, then a compare-and-swap of the target branch. Refused (exit 1) while the target is checked out in a worktree swarm does not own, with what to run instead."),
        CommandSpec(
            "pr", "swarm pr ID", "open a pull request of an agent's branch with gh",
            positionals: 1...1,
            details: "Runs gh pr create --head swarm/ID (with --base set to the parent's branch for a child) in the repository. gh must be on PATH and logged in, and the branch pushed where gh looks; without gh it exits 1 saying so."),
        CommandSpec(
            "gc", "swarm gc", "remove settled agents' worktrees and the branches of merged agents",
            details: "A branch is deleted only when its agent is done and the branch is contained in its target; a branch of a task from the inbox is its result and stays."),
        CommandSpec(
            "check", "swarm check [--json]", "validate roles, templates, swarm.json and schedule files, with file and line",
            flags: ["--json"]),
        CommandSpec(
            "demo", "swarm demo [--keep]", "run a small root -> meta -> workers swarm of stand-in agents",
            flags: ["--keep"]),
        CommandSpec(
            "report", "swarm report [--out FILE] [--json]",
            "the run as one HTML page: timeline, slots, usage, upstreams, failures",
            flags: ["--json"], options: ["--out"],
            details: "Reads the tree alone (meta.json of every agent, swarm/events.jsonl and its rotated events.jsonl.1, alerts.jsonl, swarm.json, dead-letter/), so it works while the daemon runs and after it stopped. The page is one self-contained HTML file (inline CSS and SVG, no script, nothing from the network): a timeline with one row per agent in tree order (queued, backoff, running, waiting for a human, each attempt, the end state, the alerts as marks), slots in use over time against each budget, tokens and cost per subtree, each upstream's breaker over time with its incidents, the failed attempts with their reasons, and the dead letters. Subtrees whose agents all finished done start folded when there are many rows. --out FILE writes it there (default report.html in the current folder; - for standard output). --json prints the same data as one JSON document instead (to --out FILE when given)."),
        CommandSpec(
            "man", "swarm man [--out DIR]", "write the manual pages swarm.1 and swarm-COMMAND.1",
            options: ["--out"],
            details: "Writes one page per command, generated from the same table as swarm help, into DIR (default: the current folder), and prints their names. Read one with man -l DIR/swarm.1, or install them where man looks: swarm man --out ~/.local/share/man/man1."),
        CommandSpec(
            "completions", "swarm completions bash|zsh|fish", "print a shell completion script",
            positionals: 1...1),
        CommandSpec("help", "swarm help [COMMAND]", "print usage", positionals: 0...1),
    ]

    public static let agentCommands: [CommandSpec] = [
        CommandSpec(
            "progress", "swarm progress [--outputs N] [--tokens N] [--cost USD] TEXT",
            "append one line to the agent's progress.md",
            options: ["--outputs", "--tokens", "--cost"], positionals: 1...1, joinsText: true,
            details: "--tokens and --cost give the usage of this run so far (cumulative); the runtime stops an agent whose usage, or whose subtree's, passes its budget (budget.tokens, budget.cost)."),
        CommandSpec(
            "result", "swarm result [--status ok|error] [--error-kind KIND] [--error TEXT] (FILE | - | --json TEXT)",
            "write results.json atomically, checked against the template's contract",
            options: ["--status", "--error-kind", "--json", "--error"], positionals: 0...1),
        CommandSpec(
            "spawn", "swarm spawn [--role R] [--template T] [--slots N] [--priority P] [--id ID] (FILE | -m TEXT)",
            "request a child task under the calling agent",
            options: ["--role", "--template", "--slots", "--priority", "--id", "-m"], positionals: 0...1),
        CommandSpec(
            "ask", "swarm ask [--wait] [--timeout DUR] TEXT", "write question.md; with --wait, block until answered",
            flags: ["--wait"], options: ["--timeout"], positionals: 1...1, joinsText: true),
        CommandSpec(
            "messages", "swarm messages [--json] [--hook]",
            "print the messages people sent this agent, and mark them delivered",
            flags: ["--json", "--hook"],
            details: "Prints each unread message of agents/$SWARM_AGENT_ID/messages/ (--json: one JSON object per line, with name and text) and writes its receipt (NAME.delivered); prints nothing when there is none. Run it between steps. --hook answers a Claude Code PostToolUse or Stop hook call on standard input with the JSON that hands the messages to the model; on any problem it prints nothing and exits 0, so it never blocks the agent."),
        CommandSpec("sim", "swarm sim", "the built-in stand-in agent (steered by its task's sim.* keys)"),
    ]

    /// Commands the runtime runs itself: `swarm help NAME` shows them; the overview, the
    /// completions and the argument parser leave them out (each parses its own arguments).
    public static let internalCommands: [CommandSpec] = [
        CommandSpec("confine", ConfineCommand.usage, ConfineCommand.summary, details: ConfineCommand.details),
    ]

    public static var all: [CommandSpec] { operatorCommands + agentCommands }

    public static func spec(_ name: String) -> CommandSpec? {
        (all + internalCommands).first { $0.name == name }
    }

    /// `swarm help`.
    public static var overview: String {
        var text = """
            swarm: run many AI agents in parallel; they talk only through files.

            Usage: swarm [--root DIR] COMMAND [ARGS]

            The workspace is --root DIR, else $SWARM_ROOT, else the nearest folder above that
            holds swarm/swarm.json.

            Operator commands:

            """
        for spec in operatorCommands { text += line(spec) }
        text += "\nAgent-side commands (run by agents; they read SWARM_* variables):\n"
        for spec in agentCommands { text += line(spec) }
        text += """

            Exit status: 0 success, 1 the command failed (a `swarm: ` line says why), 2 usage error.
            Durations: 250ms, 30s, 15m, 2h. `swarm COMMAND --help` shows one command.

            """
        return text
    }

    private static func line(_ spec: CommandSpec) -> String {
        let name = spec.name.padding(toLength: 12, withPad: " ", startingAt: 0)
        return "  \(name)\(spec.summary)\n"
    }

    /// `swarm COMMAND --help`.
    public static func help(_ spec: CommandSpec) -> String {
        var text = "Usage: \(spec.usage)\n\n\(spec.summary).\n"
        if !spec.details.isEmpty { text += "\n" + wrap(spec.details) + "\n" }
        return text
    }

    static func wrap(_ text: String, width: Int = 88) -> String {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.count + word.count + 1 > width && !current.isEmpty {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padding(toLength length: Int, withPad pad: String, startingAt: Int) -> String {
        count >= length ? self + " " : self + String(repeating: pad, count: length - count)
    }
}
