import SwarmSystem
import Testing

/// tmux, when this machine has it (`.ci/run` installs it).
private let tmuxPath: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first {
    FileSystem.statusFollowing($0) != nil
}

/// `swarm top` in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.
@Suite("swarm top in a real terminal", .serialized, .timeLimit(.minutes(1)))
struct TopTests {
    static var tmux: String? { tmuxPath }

    private func tmux(_ arguments: String...) async throws -> CommandOutput {
        try await Run.command(Self.tmux ?? "tmux", arguments, timeout: 10)
    }

    /// Ends the tmux session (and the `swarm top` in it) whatever happened in the test.
    static func killSession(_ session: String) {
        guard let tmux,
            let pid = try? Spawner.spawn(
                SpawnRequest(executable: tmux, arguments: ["kill-session", "-t", session], environment: SwarmBinary.environment))
        else { return }
        let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
        while Processes.reap(pid) == nil && Clock.monotonicNanoseconds() < deadline { Clock.sleep(milliseconds: 5) }
    }

    private func screen(_ session: String) async throws -> String {
        try await tmux("capture-pane", "-p", "-t", session).stdout
    }

    @Test(
        "shows live agents, redraws when they change, kills with K, quits with q and restores the terminal",
        .enabled(if: tmuxPath != nil, "tmux is not installed: `apt-get install tmux` (.ci/run does it)"))
    func liveView() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            try ws.drop(
                "alpha.md",
                TestWorkspace.simTask(
                    "alpha",
                    [("slots", "2"), ("sim.children", "3"), ("sim.child-steps", "100"), ("sim.interval", "100ms")],
                    kind: "orchestrator"))
            #expect(try await ws.waitForState("alpha-1", ["running"]), "\(ws.diagnostics())")
            let session = "swarm-top-\(Processes.currentID)"
            _ = try await tmux(
                "new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                "SWARM_ROOT=\(ws.root) \(SwarmBinary.path) top")
            defer { Self.killSession(session) }
            let shown = await eventually(timeout: 10) {
                let text = (try? await screen(session)) ?? ""
                return text.contains("alpha-1") && text.contains("running") && text.contains("alpha [")
            }
            let first = try await screen(session)
            #expect(shown, "\(first)")
            #expect(!first.contains("\u{1B}["), "no raw escape codes on the screen")
            let progressed = await eventually(timeout: 10) {
                let text = (try? await screen(session)) ?? ""
                return text != first && text.contains("step ")
            }
            #expect(progressed, "the view redraws as agents report progress")

            // select alpha-1 (the second line) and kill it with K
            _ = try await tmux("send-keys", "-t", session, "j")
            _ = try await tmux("send-keys", "-t", session, "K")
            let killed = try await ws.waitForState("alpha-1", ["killed"])
            let after = try await screen(session)
            #expect(killed, "\(after)")

            _ = try await tmux("send-keys", "-t", session, "q")
            let gone = await eventually(timeout: 5) {
                let sessions = (try? await tmux("list-sessions", "-F", "#{session_name}").stdout) ?? ""
                return !sessions.contains(session)
            }
            #expect(gone, "q ends swarm top (and with it the tmux session)")
        }
    }

    @Test("in a pipe or a dumb terminal it prints one plain frame and exits")
    func plainFrame() async throws {
        try await withWorkspace { ws in
            try ws.drop("one.md", TestWorkspace.simTask("one", [("sim.steps", "1")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let output = try await ws.swarm("top")
            #expect(output.status == 0)
            #expect(output.stdout.contains("one"), "\(output)")
            #expect(!output.stdout.contains("\u{1B}["), "plain in a pipe")
        }
    }
}
