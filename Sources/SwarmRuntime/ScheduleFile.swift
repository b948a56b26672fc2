import SwarmProtocol
import SwarmSystem

/// One schedule file, `swarm/schedules/NAME.md`, read and checked the way intake checks the
/// tasks it fires: the format (`ScheduleParser`), then its role and template. The daemon and
/// `swarm schedules` read it the same way.
public enum ScheduleFile {
    /// The schedule a file name in `swarm/schedules/` stands for: `NAME.md`, unless it is a
    /// name intake ignores (a dotfile, an editor's temporary file, `.error`) or a name that is
    /// not valid UTF-8 (shown with U+FFFD: no file can be read by it). Any other name is no
    /// schedule.
    public static func name(fileName: String) -> String? {
        guard fileName.hasSuffix(".md"), fileName.count > 3, !Intake.isIgnored(fileName),
            !fileName.contains("\u{FFFD}")
        else { return nil }
        return String(fileName.dropLast(3))
    }

    /// The names of the schedule files in the workspace, sorted.
    public static func names(in workspace: Workspace) -> [String] {
        let entries = (try? FileSystem.entries(of: workspace.schedulesDirectory)) ?? []
        return entries.compactMap { name(fileName: $0.name) }.sorted()
    }

    /// The path of schedule `name`.
    public static func path(_ name: String, in workspace: Workspace) -> String {
        workspace.schedulesDirectory + "/" + name + ".md"
    }

    /// The schedule in `path` (whose `lstat` is `stamp`), or what is wrong with it.
    public static func read(_ name: String, path: String, stamp: FileStatus?, catalog: inout Catalog)
        -> Result<ScheduleSpec, SwarmError>
    {
        guard let stamp, stamp.kind == .regular else {
            return .failure(
                SwarmError(
                    "it is not a regular file (swarm never follows a symbolic link); put the real file there")
            )
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: Intake.taskLimit)
        } catch {
            return .failure(SwarmError("it cannot be read: \(describe(error))"))
        }
        let spec: ScheduleSpec
        do {
            spec = try ScheduleParser.parse(name: name, bytes: bytes)
        } catch {
            return .failure(SwarmError(error.description))
        }
        do {
            _ = try catalog.template(spec.task.template)
            _ = try catalog.role(spec.task.role)
        } catch {
            return .failure(error)
        }
        return .success(spec)
    }

    /// What would make intake reject a firing of `spec` at once, or nil: its template or role
    /// does not exist (or is broken) any more, or one of its `inputs:` is missing. Looked at
    /// before each firing, since these change without the schedule file changing.
    public static func blocker(_ spec: ScheduleSpec, workspace: Workspace, catalog: inout Catalog) -> String?
    {
        do {
            _ = try catalog.template(spec.task.template)
            _ = try catalog.role(spec.task.role)
        } catch {
            return error.message
        }
        let missing = spec.task.inputs.filter { !FileSystem.exists(workspace.root + "/" + $0) }
        if !missing.isEmpty {
            return "inputs missing: \(missing.joined(separator: ", ")) (relative to the workspace root); "
                + "create them or fix the inputs: line"
        }
        return nil
    }
}
