@preconcurrency import Glibc
import SwarmSystem
import Testing

/// The restrictions beyond writing, through the built `swarm confine` in a child: a read
/// allowlist, TCP ports, and signal scoping. Each needs the ABI that brought it.
@Suite(
    .serialized, .timeLimit(.minutes(1)), .enabled(if: Landlock.abi() > 0, "the kernel offers no Landlock"))
struct LandlockRulesTests {
    @Test(
        "--read-system and --read: the system, the listed paths and the writable ones are readable; nothing else"
    )
    func readAllowlist() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            try FileSystem.makeDirectory(dir + "/listed")
            try FileSystem.writeAtomically(dir + "/listed/note", Array("listed\n".utf8))
            try FileSystem.writeAtomically(dir + "/secret", Array("TOPSECRET\n".utf8))
            let run = try LandlockHarness.confine(
                writes: [dir + "/own"], options: ["--read-system", "--read", dir + "/listed"], in: dir,
                script: LandlockHarness.probes([
                    ("own-read", #"cat "$D/own/file""#),
                    ("listed-read", #"cat "$D/listed/note""#),
                    ("system-run", "/bin/true && ls /usr/bin >/dev/null"),
                    ("etc-read", "cat /etc/passwd >/dev/null"),
                    ("secret-read", #"cat "$D/secret""#),
                    ("sibling-read", #"cat "$D/sibling/progress.md""#),
                    ("list-parent", #"ls "$D" >/dev/null"#),
                    ("shadow-read", "cat /etc/shadow >/dev/null"),
                ]))
            #expect(run.exit == .exited(0), "\(run)")
            for label in ["own-read", "listed-read", "system-run", "etc-read"] {
                #expect(run.results[label] == "ok", "\(label): \(run)")
            }
            for label in ["secret-read", "sibling-read", "list-parent", "shadow-read"] {
                #expect(run.results[label] == "EACCES", "\(label): \(run)")
            }
            #expect(!run.stdout.contains("TOPSECRET"))
        }
    }

    @Test(
        "--connect PORT: TCP to the listed port connects, to any other it is refused; --no-connect refuses all",
        .enabled(if: Landlock.abi() >= Landlock.networkABI, "TCP rules need Landlock ABI 4"))
    func connectPorts() throws {
        let listed = try LoopbackListener()
        let unlisted = try LoopbackListener()
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/own")
            let probes = LandlockHarness.probes([
                ("listed", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/\(listed.port)'"),
                ("unlisted", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/\(unlisted.port)'"),
            ])
            let narrow = try LandlockHarness.confine(
                writes: [dir + "/own"], options: ["--connect", String(listed.port)], in: dir, script: probes)
            #expect(narrow.results["listed"] == "ok", "\(narrow)")
            #expect(narrow.results["unlisted"] == "EACCES", "\(narrow)")
            let closed = try LandlockHarness.confine(
                writes: [dir + "/own"], options: ["--no-connect"], in: dir, script: probes)
            #expect(
                closed.results["listed"] == "EACCES" && closed.results["unlisted"] == "EACCES", "\(closed)")
            let open = try LandlockHarness.confine(writes: [dir + "/own"], in: dir, script: probes)
            #expect(open.results["listed"] == "ok" && open.results["unlisted"] == "ok", "\(open)")
        }
    }

    @Test(
        "--scoped: no signal to a process outside the domain (the test, a confined sibling); its own children still",
        .enabled(if: Landlock.abi() >= Landlock.scopeABI, "scoping needs Landlock ABI 6"))
    func scopedSignals() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/own")
            let swarm = try LandlockHarness.confiningSwarm()
            let sibling = try Spawner.spawn(
                SpawnRequest(
                    executable: swarm, arguments: ["confine", "--scoped", "--", "/bin/sleep", "30"],
                    environment: basicEnvironment))
            defer {
                _ = Processes.signal(sibling, SIGKILL)
                _ = try? waitForExit(sibling)
            }
            let me = Processes.currentID
            let probes = LandlockHarness.probes([
                ("outside", "kill -0 \(me)"),
                ("sibling", "kill -0 \(sibling)"),
                ("own-child", #"sleep 30 & kill $! && wait $!; test $? -eq 143"#),
            ])
            let scoped = try LandlockHarness.confine(
                writes: [dir + "/own"], options: ["--scoped"], in: dir, script: probes)
            #expect(scoped.results["outside"] == "EPERM", "\(scoped)")
            #expect(scoped.results["sibling"] == "EPERM", "\(scoped)")
            #expect(scoped.results["own-child"] == "ok", "\(scoped)")
            let unscoped = try LandlockHarness.confine(writes: [dir + "/own"], in: dir, script: probes)
            #expect(unscoped.results["outside"] == "ok" && unscoped.results["sibling"] == "ok", "\(unscoped)")
        }
    }
}

/// A TCP socket listening on 127.0.0.1 at a port the kernel picked; connects to it succeed
/// (the backlog takes them) until it is closed.
final class LoopbackListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let raw = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard raw >= 0 else { throw Errno.current }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(raw, socketAddress, length) == 0 && listen(raw, 16) == 0
                    && getsockname(raw, socketAddress, &length) == 0
            }
        }
        guard bound else {
            let error = Errno.current
            close(raw)
            throw error
        }
        descriptor = raw
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }
}
