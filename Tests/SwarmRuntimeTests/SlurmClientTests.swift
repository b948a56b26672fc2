import SwarmSystem
import Testing

@testable import SwarmRuntime

/// The job script Slurm runs, executed here by /bin/sh as a node would: quoting survives, the
/// exit status lands in the agent's folder, and confinement goes through `swarm confine`.
@Suite("The Slurm job script", .serialized)
struct SlurmClientTests {
    func launcher(_ root: String) -> SlurmClient {
        SlurmClient(
            workspace: Workspace(root: root), swarmExecutable: "/opt/it's here/swarm",
            arguments: ["--time=5"],
            environment: [])
    }

    func spec(_ root: String, command: String, rules: Landlock.Rules? = nil) throws -> LaunchSpec {
        let files = Workspace(root: root).agentFiles("a1")
        try FileSystem.makeDirectory(files.directory)
        return LaunchSpec(
            id: "a1", command: command, workingDirectory: files.directory,
            environment: ["PATH=/usr/bin:/bin", "SWARM_AGENT_DIR=" + files.directory], files: files,
            rules: rules)
    }

    /// Runs `script` with /bin/sh in the agent's folder, as the job would.
    func runScript(_ script: String, in folder: String) throws -> CommandOutput {
        try CommandRunner.run(
            "/bin/sh", [], environment: ["PATH=/usr/bin:/bin", "SLURM_JOB_ID=4711"],
            input: Array(script.utf8),
            workingDirectory: folder)
    }

    @Test func aBatchScriptRunsTheCommandAndRecordsItsExitStatus() throws {
        try withTemporaryFolder { root in
            let command = #"printf '%s|%s\n' "it's" 'a "quoted" $word'; exit 3"#
            let spec = try spec(root, command: command)
            let script = launcher(root).script(for: spec, batch: true)
            let output = try runScript(script, in: spec.workingDirectory)
            #expect(output.text == "it's|a \"quoted\" $word\n")
            #expect(output.status == .exited(3))
            #expect(read(spec.files.exitStatus) == "3\n")
            #expect(launcher(root).recordedExit("a1") == .exited(3))
            #expect(!FileSystem.exists(spec.files.exitStatus + ".tmp"))
        }
    }

    @Test func aStepScriptWritesItsJobIdAndBecomesTheCommand() throws {
        try withTemporaryFolder { root in
            let spec = try spec(root, command: "echo $$")
            let script = launcher(root).script(for: spec, batch: false)
            #expect(script.contains("exec /bin/sh -c 'echo $$'"))
            let output = try runScript(script, in: spec.workingDirectory)
            #expect(output.succeeded)
            #expect(launcher(root).stepJob("a1") == "4711")
            #expect(!FileSystem.exists(spec.files.exitStatus))
        }
    }

    @Test func aConfinedJobRunsThroughSwarmConfine() throws {
        try withTemporaryFolder { root in
            let spec = try spec(root, command: "true", rules: Landlock.Rules(writable: ["/srv/a b", "/tmp"]))
            let script = launcher(root).script(for: spec, batch: true)
            #expect(
                script.contains(
                    #"'/opt/it'\''s here/swarm' confine --write '/srv/a b' --write '/tmp' -- /bin/sh -c 'true'"#
                ))
            let narrow = try self.spec(
                root, command: "true",
                rules: Landlock.Rules(
                    writable: ["/w"], readable: ["/ws"], connectPorts: [443, 8080], scoped: true))
            #expect(
                launcher(root).script(for: narrow, batch: true).contains(
                    "confine --write '/w' --read-system --read '/ws' --connect '443' --connect '8080' --scoped -- "
                ))
            let offline = try self.spec(
                root, command: "true", rules: Landlock.Rules(writable: ["/w"], connectPorts: []))
            #expect(
                launcher(root).script(for: offline, batch: true).contains(
                    "confine --write '/w' --no-connect -- "))
        }
    }

    @Test func srunGetsTheJobOptionsAndTheScriptAsOneWord() throws {
        try withTemporaryFolder { root in
            let spec = try spec(root, command: "echo hi")
            let command = launcher(root).srunCommand(spec)
            #expect(
                command.hasPrefix(
                    "exec 'srun' '--quiet' '--job-name=a1' '--chdir=\(spec.workingDirectory)' '--ntasks=1' '--export=ALL' '--time=5' '/bin/sh' '-c' '#!/bin/sh"
                ))
        }
    }

    @Test func aSignalledCommandIsRecordedAsSuch() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm/agents/a1")
            try FileSystem.writeAtomically(root + "/swarm/agents/a1/exit-status", Array("143\n".utf8))
            #expect(launcher(root).recordedExit("a1") == .signaled(15))
            try FileSystem.writeAtomically(root + "/swarm/agents/a1/exit-status", Array("junk".utf8))
            #expect(launcher(root).recordedExit("a1") == nil)
        }
    }
}
