import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm check`: every problem in swarm.json, roles, templates and schedule files, with file
/// and line.
enum CheckCommand {
    struct Problem {
        var file: String
        var line: Int?
        var message: String

        /// One member of `swarm check --json`'s `problems`.
        var json: JSONValue {
            var o = JSONObject()
            o["file"] = .string(file)
            if let line { o["line"] = .integer(Int64(line)) }
            o["message"] = .string(message)
            return .object(o)
        }
    }

    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let problems = check(workspace)
        if context.has("--json") {
            Output.print(JSON.encode(["problems": .array(problems.map(\.json))]))
        } else if problems.isEmpty {
            let templates = Catalog.names(in: workspace.templatesDirectory).count
            let roles = Catalog.names(in: workspace.rolesDirectory).count
            Output.print("ok: swarm/swarm.json, \(templates) template(s) and \(roles) role file(s) are valid")
        } else {
            for p in problems {
                Output.print("\(p.file)\(p.line.map { ":\($0)" } ?? ""): \(p.message)")
            }
        }
        if !problems.isEmpty {
            throw SwarmError("\(problems.count) problem(s) found; fix them and run `swarm check` again")
        }
    }

    /// Every problem found, in file order.
    static func check(_ workspace: Workspace) -> [Problem] {
        var problems: [Problem] = []
        do {
            let bytes = try FileSystem.readFile(workspace.configPath, limit: 1 << 20)
            for p in ConfigParser.parse(bytes).problems {
                problems.append(Problem(file: "swarm/swarm.json", line: p.line, message: p.message))
            }
        } catch {
            problems.append(Problem(file: "swarm/swarm.json", line: nil, message: "cannot be read: \(error)"))
        }
        let templates = Catalog.names(in: workspace.templatesDirectory)
        if templates.isEmpty {
            problems.append(
                Problem(
                    file: "templates/", line: nil,
                    message: "no templates; `swarm init` writes the standard ones"))
        }
        for name in templates {
            let file = "templates/\(name).md"
            if let problem = AgentID.problem(with: name) {
                problems.append(
                    Problem(
                        file: file, line: nil,
                        message: "the name is not usable as a template name: \(problem)"))
                continue
            }
            do {
                let bytes = try FileSystem.readFile(workspace.templatePath(name), limit: Catalog.fileLimit)
                let template = try TemplateParser.parse(name: name, bytes: bytes)
                if !template.upstreams.isEmpty {
                    let bytes = (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20)) ?? []
                    let names = ConfigParser.parse(bytes).config.upstreams.map(\.name)
                    let key = template.fields.contains { $0.key == "upstreams" } ? "upstreams" : "upstream"
                    for upstream in template.upstreams where !names.contains(upstream) {
                        problems.append(
                            Problem(
                                file: file, line: line(of: key, in: template),
                                message:
                                    "upstream \"\(upstream)\" is not in swarm.json's upstreams (\(names.isEmpty ? "it lists none" : names.joined(separator: ", ")))"
                            ))
                    }
                }
                for (key, problem) in template.hookProblems {
                    problems.append(Problem(file: file, line: line(of: key, in: template), message: problem))
                }
            } catch let error as ProtocolError {
                problems.append(
                    Problem(
                        file: file, line: error.line,
                        message: error.message + (error.hint.map { "; " + $0 } ?? "")))
            } catch {
                problems.append(Problem(file: file, line: nil, message: "cannot be read: \(error)"))
            }
        }
        for name in Catalog.names(in: workspace.rolesDirectory) {
            let file = "roles/\(name).md"
            do {
                let bytes = try FileSystem.readFile(workspace.rolePath(name), limit: Catalog.fileLimit)
                _ = try TextDecoding.decode(bytes)
            } catch let error as ProtocolError {
                problems.append(Problem(file: file, line: error.line, message: error.message))
            } catch {
                problems.append(Problem(file: file, line: nil, message: "cannot be read: \(error)"))
            }
        }
        for required in ["worker", "_shared-rules"] where !FileSystem.exists(workspace.rolePath(required)) {
            problems.append(
                Problem(file: "roles/\(required).md", line: nil, message: "missing; `swarm init` writes it"))
        }
        var catalog = Catalog(workspace: workspace)
        for name in ScheduleFile.names(in: workspace) {
            let path = ScheduleFile.path(name, in: workspace)
            let read = ScheduleFile.read(name, path: path, stamp: FileSystem.status(path), catalog: &catalog)
            if case .failure(let error) = read {
                problems.append(
                    Problem(file: "swarm/schedules/\(name).md", line: nil, message: error.message))
            }
        }
        return problems
    }

    private static func line(of key: String, in template: Template) -> Int? {
        template.fields.first { $0.key == key }?.line
    }
}

/// `swarm completions bash|zsh|fish`.
enum CompletionsCommand {
    static func run(_ context: Context) throws {
        let names = CommandTable.all.map(\.name).joined(separator: " ")
        switch context.positionals[0] {
        case "bash":
            var cases = ""
            for spec in CommandTable.all {
                let words = (spec.flags.sorted() + spec.options.sorted() + ["--help", "--root"]).joined(
                    separator: " ")
                cases += "        \(spec.name)) opts=\"\(words)\" ;;\n"
            }
            Output.print(
                """
                # bash completion for swarm: source it, or put it in /etc/bash_completion.d/swarm
                _swarm() {
                    local cur="${COMP_WORDS[COMP_CWORD]}"
                    if [ "$COMP_CWORD" -eq 1 ]; then
                        COMPREPLY=( $(compgen -W "\(names) --help --root" -- "$cur") )
                        return
                    fi
                    local opts=""
                    case "${COMP_WORDS[1]}" in
                \(cases)    esac
                    if [[ "$cur" == -* ]]; then
                        COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
                    else
                        COMPREPLY=( $(compgen -f -- "$cur") )
                    fi
                }
                complete -F _swarm swarm
                """)
        case "zsh":
            var lines = ""
            for spec in CommandTable.all {
                lines += "    '\(spec.name):\(spec.summary.replacingQuotes())'\n"
            }
            Output.print(
                """
                #compdef swarm
                # zsh completion for swarm: put it on your fpath as _swarm
                _swarm() {
                  local -a commands
                  commands=(
                \(lines)  )
                  if (( CURRENT == 2 )); then
                    _describe 'command' commands
                  else
                    _files
                  fi
                }
                _swarm "$@"
                """)
        case "fish":
            var lines = "# fish completion for swarm: put it in ~/.config/fish/completions/swarm.fish\n"
            lines += "complete -c swarm -f\n"
            for spec in CommandTable.all {
                lines +=
                    "complete -c swarm -n '__fish_use_subcommand' -a \(spec.name) -d '\(spec.summary.replacingQuotes())'\n"
                for flag in (spec.flags.sorted() + spec.options.sorted()) where flag.hasPrefix("--") {
                    lines +=
                        "complete -c swarm -n '__fish_seen_subcommand_from \(spec.name)' -l \(flag.dropFirst(2))\n"
                }
            }
            Output.print(lines)
        default:
            throw UsageError(
                "completions are available for bash, zsh and fish, not \(context.positionals[0])")
        }
    }
}

extension String {
    func replacingQuotes() -> String {
        String(map { $0 == "'" ? "`" : $0 })
    }
}
