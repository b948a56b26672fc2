import SwarmCore
import SwarmProtocol

/// Renders an agent's task.md: the template's brief with its placeholders filled from the
/// shared rules, the role, the task and where the agent's files are.
enum Brief {
    /// The values every template may use, plus every key of the task.
    static func values(
        record: AgentRecord, task: TaskSpec, template: Template, role: String,
        sharedRules: String, workspace: Workspace
    ) -> [String: String] {
        let files = workspace.agentFiles(record.id)
        var values: [String: String] = [:]
        for field in task.fields where field.key != "acceptance" { values[field.key] = field.value }
        values["shared_rules"] = sharedRules.trimmingTrailingNewlines()
        values["role"] = role.trimmingTrailingNewlines()
        values["task"] = task.text.trimmingTrailingNewlines()
        values["agent_id"] = record.id
        values["agent_dir"] = files.directory
        values["parent_id"] = record.parent ?? ""
        values["depth"] = String(record.depth)
        values["slots"] = String(record.slots)
        values["root"] = workspace.root
        values["progress_file"] = files.progress
        values["results_file"] = files.results
        values["priority"] = record.priority.rawValue
        values["template"] = template.name
        values["kind"] = template.kind.rawValue
        values["contract"] = template.contract?.text ?? "none: any JSON object"
        let acceptance = template.acceptance + task.fields.filter { $0.key == "acceptance" }.map(\.value)
        values["acceptance"] =
            acceptance.isEmpty ? "none stated" : acceptance.map { "- " + $0 }.joined(separator: "\n")
        values["inputs"] =
            task.inputs.isEmpty
            ? "none" : task.inputs.map { "- " + workspace.root + "/" + $0 }.joined(separator: "\n")
        values["fields"] = task.fields.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
        values["budget"] = budgetText(task)
        return values
    }

    static func budgetText(_ task: TaskSpec) -> String {
        var parts: [String] = []
        if let tokens = task.tokenBudget { parts.append("\(tokens) tokens") }
        if let cost = task.costBudget { parts.append("$\(cost)") }
        return parts.isEmpty ? "none set" : parts.joined(separator: ", ")
    }

    static func render(_ template: Template, values: [String: String]) throws(SwarmError) -> String {
        do {
            let text = try Placeholders.render(
                template.body, values: values, firstLine: template.bodyStartLine)
            return text.hasSuffix("\n") ? text : text + "\n"
        } catch {
            throw SwarmError("templates/\(template.name).md: \(error.description)")
        }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var end = utf8.endIndex
        while end > utf8.startIndex, utf8[utf8.index(before: end)] == UInt8(ascii: "\n") {
            end = utf8.index(before: end)
        }
        return end == utf8.endIndex ? self : String(self[..<end])
    }
}
