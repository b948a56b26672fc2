import SwarmCore
import SwarmProtocol
import SwarmSystem

/// A claimed task that passed every check and waits for the scheduler's decision.
struct PreparedTask: Sendable {
    var claimedPath: String
    var fileName: String
    var record: AgentRecord
    var brief: String
}

/// Intake: claim a task file by rename (the commit point), read and check it, and either
/// prepare an agent record or reject it with a reason a person can act on.
struct Intake: Sendable {
    let workspace: Workspace
    var catalog: Catalog
    /// Runs git for the checks of `repo:` and `base:`.
    let git: Git
    /// The upstream names of swarm.json, which a task's `upstreams:` must name.
    var upstreamNames: [String] = []

    /// Largest task file accepted, in bytes.
    static let taskLimit = 1 << 20

    init(workspace: Workspace, git: Git) {
        self.workspace = workspace
        self.catalog = Catalog(workspace: workspace)
        self.git = git
    }

    /// True for names intake leaves alone: dotfiles and editors' temporary files. (A name that
    /// is not valid UTF-8 is renamed first: `Daemon.repairName`.)
    static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name.hasSuffix(".swp")
            || name.hasSuffix(".swx") || name.hasSuffix(".tmp") || name.hasSuffix(".error")
            || (name.hasPrefix("#") && name.hasSuffix("#")) || name == "4913"
    }

    /// Moves `name` from `directory` into the claimed folder for `parent` (as `name.1`,
    /// `name.2`... when that name is taken there). Returns the claimed path, or nil when the
    /// file is gone (someone else took it).
    func claim(_ name: String, from directory: String, parent: String?) -> String? {
        let target = workspace.claimedDirectory(parent: parent)
        var destination = name
        var n = 0
        var madeTarget = false
        while true {
            do {
                try FileSystem.rename(directory + "/" + name, to: target + "/" + destination, replace: false)
                return target + "/" + destination
            } catch .fileExists {
                n += 1
                destination = "\(name).\(n)"
            } catch .noSuchFile where !madeTarget {
                // the claimed folder may not exist yet; if the file itself is gone, the
                // next try says so
                try? FileSystem.makeDirectory(target)
                madeTarget = true
            } catch {
                return nil
            }
        }
    }

    /// `name`, or `name.1`, `name.2`... whichever does not exist in `directory` yet.
    static func freeName(in directory: String, for name: String) -> String {
        var candidate = name
        var n = 1
        while FileSystem.exists(directory + "/" + candidate) {
            candidate = "\(name).\(n)"
            n += 1
        }
        return candidate
    }

    /// `name` cut to at most 200 bytes (at a character boundary), so that `NAME.error` and the
    /// temporary name it is written through stay under the file system's 255-byte limit (a
    /// longer name's explanation is the shortened name plus `.error`).
    static func shortened(_ name: String) -> String {
        guard name.utf8.count > 200 else { return name }
        var out = ""
        for character in name {
            if out.utf8.count + String(character).utf8.count > 200 { break }
            out.append(character)
        }
        return out
    }

    /// Reads and checks a claimed task; `parent` is the requesting orchestrator, if any.
    ///
    /// An id made from the file name skips the names of folders under agents/ that are not
    /// intake's (`isForeignFolder`); a task's own id that names one is an error. With
    /// `checksFolders` false that look is left to whoever makes the agent's folder
    /// (`folderOutcome`): the daemon's thread then never looks up a new name in agents/,
    /// which waits while ext4 places another folder there.
    mutating func prepare(
        claimedPath: String, fileName: String, parent: AgentRecord?, taken: (String) -> Bool,
        checksFolders: Bool = true, now: Millis
    ) -> Result<PreparedTask, SwarmError> {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(claimedPath, limit: Self.taskLimit)
        } catch {
            return .failure(SwarmError("the task file cannot be read: \(describe(error))"))
        }
        let task: TaskSpec
        do {
            task = try TaskParser.parse(fileName: fileName, bytes: bytes)
        } catch {
            return .failure(SwarmError(error.description))
        }
        do {
            let template = try catalog.template(task.template)
            let role = try catalog.role(task.role)
            let shared = try catalog.sharedRules()
            let missing = task.inputs.filter { !FileSystem.exists(workspace.root + "/" + $0) }
            if !missing.isEmpty {
                throw SwarmError(
                    "inputs missing: \(missing.joined(separator: ", ")) (relative to \(workspace.root)); "
                        + "create them or fix the inputs: line, then drop the task again")
            }
            let id = try chooseID(task: task, fileName: fileName, taken: taken, checksFolders: checksFolders)
            if let named = task.upstreams {
                let unknown = named.filter { !upstreamNames.contains($0) }
                if !unknown.isEmpty {
                    throw SwarmError(
                        "upstreams: names \(unknown.joined(separator: ", ")), which swarm/swarm.json does not list ("
                            + (upstreamNames.isEmpty
                                ? "it lists none" : "it lists \(upstreamNames.joined(separator: ", "))")
                            + "); fix the upstreams: line, then drop the task again")
                }
            }
            let record = try makeRecord(id: id, task: task, template: template, parent: parent, now: now)
            let values = Brief.values(
                record: record, task: task, template: template, role: role, sharedRules: shared,
                workspace: workspace)
            let brief = try Brief.render(template, values: values)
            return .success(
                PreparedTask(claimedPath: claimedPath, fileName: fileName, record: record, brief: brief))
        } catch let error as SwarmError {
            return .failure(error)
        } catch {
            return .failure(SwarmError("\(error)"))
        }
    }

    /// The record a task becomes: everything intake decides from the task and its template.
    func makeRecord(id: String, task: TaskSpec, template: Template, parent: AgentRecord?, now: Millis)
        throws(SwarmError) -> AgentRecord
    {
        var record = AgentRecord(
            id: id, parent: parent?.id, depth: (parent?.depth ?? 0) + 1,
            kind: template.kind, role: task.role, template: template.name,
            priority: task.givesPriority ? task.priority : template.priority ?? task.priority,
            slots: template.kind == .orchestrator ? (task.slots ?? template.slots ?? 0) : 0,
            policy: template.policy, createdAt: now)
        record.preferredUpstreams = task.upstreams ?? template.upstreams
        record.tokenBudget = task.tokenBudget
        record.costBudget = task.costBudget
        record.git = try RepoBinding.resolve(
            task: task, template: template, parent: parent, workspace: workspace, git: git, id: id
        ).get()
        record.reads = task.reads
        record.network = task.network
        return record
    }

    /// The task's own id, or one made from its file name that no agent has yet.
    private func chooseID(task: TaskSpec, fileName: String, taken: (String) -> Bool, checksFolders: Bool)
        throws(SwarmError) -> String
    {
        if let id = task.id {
            if taken(id) || (checksFolders && hasMeta(id)) {
                throw SwarmError(
                    "id \"\(id)\" is taken by another agent; choose another id: or leave it out")
            }
            if checksFolders, Self.isForeignFolder(workspace.agentFiles(id).directory) {
                throw SwarmError(
                    "id \"\(id)\" is taken: agents/\(id)/ holds files the runtime did not put there; "
                        + "choose another id: or leave it out")
            }
            return id
        }
        let base = String(AgentID.slug(fromFileName: fileName).prefix(56))
        var candidate = base
        var n = 2
        while taken(candidate)
            || (checksFolders && Self.isForeignFolder(workspace.agentFiles(candidate).directory))
        {
            candidate = "\(base)-\(n)"
            n += 1
        }
        return candidate
    }

    /// True when agents/<id>/ holds a record. The folder is looked at first: most ids are new,
    /// and one failed lookup is all they cost.
    private func hasMeta(_ id: String) -> Bool {
        let files = workspace.agentFiles(id)
        return FileSystem.exists(files.directory) && FileSystem.exists(files.meta)
    }

    /// True when `directory` (an agent's folder under agents/) exists but intake did not leave
    /// it half-made (a record in it, meta.json, is not intake's either).
    static func isForeignFolder(_ directory: String) -> Bool {
        guard FileSystem.exists(directory) else { return false }
        // a folder that cannot be listed (or a symlink) is no one's to reuse
        guard let entries = try? FileSystem.entries(of: directory) else { return true }
        return !entries.allSatisfy { isLeftOfIntake($0.name) }
    }

    /// What became of a new agent's folder made off the daemon's thread.
    enum FolderOutcome: Sendable {
        /// It exists now, made or left half-made by an earlier intake.
        case made
        /// It could not be made (the tree takes no writes).
        case notMade
        /// Something that is not intake's is there: the task needs another id.
        case foreign
    }

    /// Makes the agent's folder `directory` unless a folder that is not intake's is there:
    /// the look `prepare` leaves out with `checksFolders` false, and the `mkdir`, in one place.
    static func folderOutcome(_ directory: String) -> FolderOutcome {
        if isForeignFolder(directory) { return .foreign }
        return (try? FileSystem.makeDirectory(directory)) != nil ? .made : .notMade
    }

    /// True for the files intake itself puts into a new agent's folder, and the temporary
    /// files of their atomic writes a crash may leave behind.
    static func isLeftOfIntake(_ name: String) -> Bool {
        name.hasPrefix("source.") || name == "task.md" || name == "spawn"
            || name.hasPrefix(".task.md.tmp-") || name.hasPrefix(".meta.json.tmp-")
    }

    /// Fills the accepted agent's folder (made when the task was taken in): the parent's
    /// link first (so that a crash before meta.json still tells whose request the folder
    /// holds), source file, brief, meta.json (unless `meta` is nil because the agent starts
    /// at once and its start writes it). The brief and meta.json go through `writer`, so a
    /// full disk delays them (and the agent's start) but loses neither. The launcher creates
    /// `tmp/` when it starts the agent.
    func materialize(
        _ task: PreparedTask, record: AgentRecord, meta: [UInt8]?, writer: inout TreeWriter, now: Millis
    ) throws(Errno) {
        let files = workspace.agentFiles(record.id)
        if let parent = record.parent {
            let links = workspace.agentFiles(parent).children
            try FileSystem.makeDirectory(links)
            try? FileSystem.symlink(target: "../../" + record.id, at: links + "/" + record.id)
        }
        let ext = task.fileName.hasSuffix(".json") ? "json" : "md"
        try FileSystem.rename(task.claimedPath, to: files.directory + "/source." + ext)
        writer.replace(files.task, with: Array(task.brief.utf8), now: now)
        if record.kind == .orchestrator { try FileSystem.makeDirectory(files.spawn) }
        if let meta { writer.replace(files.meta, with: meta, now: now) }
    }

    /// Moves a claimed task that cannot run to the rejected place (or, for a child request, the
    /// parent's refused/ folder) with a `.error` file beside it. The original bytes are kept.
    func reject(claimedPath: String, fileName: String, parent: String?, reason: String) -> String {
        let directory =
            parent.map { workspace.agentFiles($0).refused } ?? workspace.rejected
        try? FileSystem.makeDirectory(directory)
        let name = Self.freeName(in: directory, for: fileName)
        let target = directory + "/" + name
        if (try? FileSystem.rename(claimedPath, to: target, replace: false)) == nil {
            try? FileSystem.remove(claimedPath)
        }
        let text =
            "swarm could not accept \(fileName): \(reason)\n\n"
            + "The original is kept beside this file as \(name). Fix it and move it back into "
            + (parent == nil ? "swarm/inbox/" : "the spawn/ folder") + " to try again.\n"
        try? FileSystem.writeAtomically(directory + "/" + Self.shortened(name) + ".error", Array(text.utf8))
        return target
    }
}
