import SwarmRuntime
import SwarmSystem

/// The manual pages, in roff (the `man` macros), generated from `CommandTable`: `swarm.1`
/// lists every command, and `swarm-COMMAND.1` holds one command's usage and help, the same
/// words as `swarm COMMAND --help`, so the pages cannot drift from the program.
public enum ManPages {
    /// One page: its file name and its text.
    public struct Page: Sendable, Equatable {
        /// Its file name (`swarm-report.1`) and its roff text.
        public var file: String
        public var text: String
    }

    /// Every page: swarm.1 first, then one per command (the internal ones included).
    public static var all: [Page] {
        [overview] + (CommandTable.all + CommandTable.internalCommands).map(page)
    }

    /// swarm.1.
    static var overview: Page {
        var text = heading("SWARM", summary: "run many AI agents in parallel; they talk only through files")
        text += ".SH SYNOPSIS\n.B swarm\n[\\-\\-root\n.IR DIR ]\n.I COMMAND\n.RI [ ARGS ]\n"
        text += ".SH DESCRIPTION\n"
        text += paragraph(
            "swarm runs a daemon that watches a workspace tree and drives a hierarchy of orchestrators and "
                + "workers within slot budgets. People edit roles and templates, drop task files into "
                + "swarm/inbox/, and read the tree; agents write their progress, results and questions into "
                + "their own folders. docs/PROTOCOL.md describes every file.")
        text += paragraph(
            "The workspace is --root DIR, else $SWARM_ROOT, else the nearest folder above the current one "
                + "that holds swarm/swarm.json.")
        text += ".SH OPERATOR COMMANDS\n" + CommandTable.operatorCommands.map(entry).joined()
        text += ".SH AGENT-SIDE COMMANDS\n"
        text += paragraph("Run by agents; they read the SWARM_* variables the runtime gives them.")
        text += CommandTable.agentCommands.map(entry).joined()
        text += ".SH ENVIRONMENT\n"
        text += item("SWARM_ROOT", "the workspace, when --root is not given")
        text += item(
            "SWARM_LAUNCHER", "local, slurm or slurm-srun: overrides swarm.json's launcher for a daemon")
        text += item("NO_COLOR", "when set, output is never coloured")
        text += exitStatus
        text += ".SH FILES\n"
        text += item("swarm/swarm.json", "the configuration")
        text += item("swarm/inbox/", "task files waiting for intake")
        text += item("swarm/schedules/NAME.md", "recurring tasks: a task file with every: (see swarm schedules)")
        text += item(
            "swarm/agents/ID/", "one folder per agent: task.md, meta.json, progress.md, results.json, logs")
        text += item("swarm/alerts.jsonl", "one alert per line")
        text += item("swarm/events.jsonl", "the run's history, drawn by swarm report")
        text += ".SH SEE ALSO\n"
        text +=
            (CommandTable.all + CommandTable.internalCommands).map { "\\fBswarm\\-\(escape($0.name))\\fR(1)" }
            .joined(separator: ",\n") + "\n"
        return Page(file: "swarm.1", text: text)
    }

    /// swarm-COMMAND.1.
    static func page(_ spec: CommandSpec) -> Page {
        var text = heading(
            "SWARM-" + spec.name.uppercased(), name: "swarm-" + spec.name, summary: spec.summary)
        text += ".SH SYNOPSIS\n.nf\n" + escapeLine(spec.usage) + "\n.fi\n"
        text += ".SH DESCRIPTION\n" + paragraph(sentence(spec.summary))
        if !spec.details.isEmpty { text += paragraph(spec.details) }
        text += exitStatus
        text += ".SH SEE ALSO\n\\fBswarm\\fR(1), \\fBswarm help \(escape(spec.name))\\fR\n"
        return Page(file: "swarm-\(spec.name).1", text: text)
    }

    private static func heading(_ title: String, name: String = "swarm", summary: String) -> String {
        ".TH \(escape(title)) 1 \"\" \"swarm\" \"swarm manual\"\n.nh\n.ad l\n.SH NAME\n\(escape(name)) \\- \(escape(summary))\n"
    }

    private static var exitStatus: String {
        ".SH EXIT STATUS\n" + item("0", "success")
            + item("1", "the command failed; a line starting swarm: says why")
            + item("2", "usage error")
    }

    /// One command in swarm.1's list.
    private static func entry(_ spec: CommandSpec) -> String {
        ".TP\n.B \(escape(spec.usage))\n\(escapeLine(sentence(spec.summary))) See \\fBswarm\\-\(escape(spec.name))\\fR(1).\n"
    }

    private static func item(_ tag: String, _ text: String) -> String {
        ".TP\n.B \(escape(tag))\n\(escapeLine(text))\n"
    }

    private static func paragraph(_ text: String) -> String {
        ".PP\n" + escapeLine(text) + "\n"
    }

    private static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }

    /// `text` as roff: backslashes and hyphens escaped (so that `--json` stays two hyphens),
    /// newlines turned into spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case "\n": out += " "
            default: out.append(c)
            }
        }
        return out
    }

    /// `escape(text)` as a text line: one that would begin with `.` or `'` (a request) is
    /// guarded with `\&`.
    static func escapeLine(_ text: String) -> String {
        let escaped = escape(text)
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }
}

/// `swarm man [--out DIR]`.
enum ManCommand {
    static func run(_ context: Context) throws {
        let directory = context.option("--out") ?? "."
        do {
            try FileSystem.makeDirectory(directory)
        } catch {
            throw SwarmError("cannot make the folder \(directory) for the manual pages: \(error)")
        }
        for page in ManPages.all {
            let path = directory + "/" + page.file
            do {
                try FileSystem.writeAtomically(path, Array(page.text.utf8))
            } catch {
                throw SwarmError("cannot write \(path): \(error); name a folder you may write")
            }
            Output.print(path)
        }
    }
}
