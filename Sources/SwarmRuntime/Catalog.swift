import SwarmProtocol
import SwarmSystem

/// Roles and templates, read from disk when a task is rendered so that an edit takes effect on
/// the next spawn. A file is parsed again only when its size, inode or modification time
/// changed.
public struct Catalog: Sendable {
    public let workspace: Workspace
    private var templates: [String: (stamp: FileStatus, template: Template)] = [:]
    private var roles: [String: (stamp: FileStatus, text: String)] = [:]

    /// Largest role or template file read, in bytes.
    public static let fileLimit = 256 * 1024

    public init(workspace: Workspace) { self.workspace = workspace }

    /// The template `name`, or an error that says what is wrong and lists what exists.
    public mutating func template(_ name: String) throws(SwarmError) -> Template {
        // a cached name was checked when it was first read
        if templates[name] == nil, let problem = AgentID.problem(with: name) {
            throw SwarmError("template name \"\(name)\" is not a plain name: \(problem)")
        }
        let path = workspace.templatePath(name)
        guard let stamp = FileSystem.status(path), stamp.kind == .regular else {
            throw SwarmError(
                "template \"\(name)\" does not exist (no templates/\(name).md); "
                    + "use one of: \(Self.names(in: workspace.templatesDirectory).joined(separator: ", "))")
        }
        if let cached = templates[name], cached.stamp == stamp { return cached.template }
        let bytes = try Self.read(path, label: "templates/\(name).md")
        do {
            let template = try TemplateParser.parse(name: name, bytes: bytes)
            templates[name] = (stamp, template)
            return template
        } catch {
            throw SwarmError("templates/\(name).md: \(error.description)")
        }
    }

    /// The text of role `name` (roles/NAME.md).
    public mutating func role(_ name: String) throws(SwarmError) -> String {
        if roles[name] == nil,
            let problem = AgentID.problem(with: name.hasPrefix("_") ? String(name.dropFirst()) : name)
        {
            throw SwarmError("role name \"\(name)\" is not a plain name: \(problem)")
        }
        let path = workspace.rolePath(name)
        guard let stamp = FileSystem.status(path), stamp.kind == .regular else {
            let known = Self.names(in: workspace.rolesDirectory).filter { !$0.hasPrefix("_") }
            throw SwarmError(
                "role \"\(name)\" does not exist (no roles/\(name).md); "
                    + "create it or use one of: \(known.joined(separator: ", "))")
        }
        if let cached = roles[name], cached.stamp == stamp { return cached.text }
        let bytes = try Self.read(path, label: "roles/\(name).md")
        do {
            let text = try TextDecoding.decode(bytes)
            roles[name] = (stamp, text)
            return text
        } catch {
            throw SwarmError("roles/\(name).md: \(error.description)")
        }
    }

    /// The shared rules every brief carries (roles/_shared-rules.md), or "" when absent.
    public mutating func sharedRules() throws(SwarmError) -> String {
        let name = "_shared-rules"
        let path = workspace.rolePath(name)
        guard let stamp = FileSystem.status(path) else { return "" }
        if let cached = roles[name], cached.stamp == stamp, stamp.kind == .regular { return cached.text }
        return try role(name)
    }

    /// The names (without .md) of the Markdown files in `directory`, sorted.
    public static func names(in directory: String) -> [String] {
        let entries = (try? FileSystem.entries(of: directory)) ?? []
        return entries.filter { $0.kind == .regular && $0.name.hasSuffix(".md") }
            .map { String($0.name.dropLast(3)) }.sorted()
    }

    private static func read(_ path: String, label: String) throws(SwarmError) -> [UInt8] {
        do {
            return try FileSystem.readFile(path, limit: fileLimit)
        } catch {
            throw SwarmError("\(label) cannot be read: \(describe(error))")
        }
    }
}

/// A person-readable description of a failed read.
func describe(_ error: FileReadError) -> String {
    switch error {
    case .system(let errno) where errno == .tooManyLinks:
        return "it is a symbolic link, which swarm never follows; put the real file there"
    case .system(let errno):
        return errno.description
    case .notRegularFile(let kind):
        return "it is a \(kind) rather than a regular file"
    case .tooLarge(let size, let limit):
        return "it is \(size) bytes, more than the limit of \(limit)"
    }
}
