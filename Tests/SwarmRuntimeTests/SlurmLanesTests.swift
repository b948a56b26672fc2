@preconcurrency import Glibc
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// Slurm's commands off the loop, with stand-in commands on PATH that wait until the test
/// releases them (a file appears) and note how they were called.
@Suite("Slurm's commands on lanes: a pool of submissions, one poll at a time, cancels gathered", .serialized)
struct SlurmLanesTests {
    /// A stand-in command `name` in `bin` that appends its arguments to `bin/calls`, waits for
    /// `bin/release`, then prints `output`.
    static func standIn(_ name: String, in bin: String, output: String = "") throws {
        try write(
            bin + "/" + name,
            "#!/bin/sh\ncat >/dev/null\necho \"\(name) $*\" >> \(bin)/calls\n"
                + "while [ ! -f \(bin)/release ]; do sleep 0.01; done\nprintf '%s' '\(output)'\n")
        #expect(SlurmLauncherTests.chmodExecutable(bin + "/" + name))
    }

    static func client(_ root: String, bin: String) -> SlurmClient {
        SlurmClient(
            workspace: Workspace(root: root), swarmExecutable: "/bin/true", arguments: [],
            environment: ["PATH=\(bin):/usr/bin:/bin"])
    }

    static func spec(_ root: String, _ id: String, bin: String) throws -> LaunchSpec {
        let files = Workspace(root: root).agentFiles(id)
        try FileSystem.makeDirectory(files.directory)
        return LaunchSpec(
            id: id, command: "true", workingDirectory: files.directory,
            environment: ["PATH=\(bin):/usr/bin:/bin"], files: files)
    }

    /// Takes finished pieces until `done` holds (each wait bounded).
    static func drain(_ work: BackgroundWork, until done: () -> Bool) {
        var rounds = 0
        while !done() && rounds < 200 {
            var entry = pollfd(fd: work.descriptor, events: Int16(POLLIN), revents: 0)
            #expect(poll(&entry, 1, 10_000) == 1, "a piece finished in time")
            work.takeFinished()
            rounds += 1
        }
    }

    /// The calls the stand-ins noted so far.
    static func calls(_ bin: String) -> [String] {
        (read(bin + "/calls") ?? "").split(separator: "\n").map(String.init)
    }

    @Test("four submissions run at once; the fifth waits for a lane and can be taken back")
    func aPoolOfSubmissions() throws {
        try withTemporaryFolder { root in
            let bin = root + "/bin"
            try FileSystem.makeDirectory(bin)
            try Self.standIn("sbatch", in: bin, output: "77\n")
            let work = try BackgroundWork()
            let lanes = SlurmLanes(background: work, log: Logger(quiet: true))
            let client = Self.client(root, bin: bin)
            var answers: [String: Result<String, SwarmError>] = [:]
            for n in 1...6 {
                let spec = try Self.spec(root, "a\(n)", bin: bin)
                lanes.submit(spec, client: client, probe: false) { answers[spec.id] = $0 }
            }
            #expect(lanes.withdrawWaiting() == ["a5", "a6"])
            let started = Clock.monotonicNanoseconds()
            while Self.calls(bin).count < 4 && Clock.monotonicNanoseconds() - started < 10_000_000_000 {
                usleep(5_000)
            }
            #expect(Self.calls(bin).count == 4, "four sbatch at once, while none has answered")
            try write(bin + "/release", "")
            Self.drain(work) { answers.count == 4 }
            #expect(Set(answers.keys) == ["a1", "a2", "a3", "a4"])
            #expect(answers.values.allSatisfy { (try? $0.get()) == "77" })
        }
    }

    @Test("a poll under way refuses a second; its answer is parsed")
    func onePollAtATime() throws {
        try withTemporaryFolder { root in
            let bin = root + "/bin"
            try FileSystem.makeDirectory(bin)
            try Self.standIn("squeue", in: bin, output: "12|RUNNING|None|0|n1|a1|/x/stdout.log|\n")
            let work = try BackgroundWork()
            let lanes = SlurmLanes(background: work, log: Logger(quiet: true))
            let client = Self.client(root, bin: bin)
            var known: [String: SlurmJob]??
            #expect(lanes.poll(["12", "13"], client: client) { known = .some($0) })
            #expect(!lanes.poll(["12"], client: client) { _ in Issue.record("a second poll never runs") })
            try write(bin + "/release", "")
            Self.drain(work) { known != nil }
            #expect(!lanes.polling)
            #expect(known??["12"]?.state == "RUNNING" && known??["12"]?.nodes == "n1")
            let call = try #require(Self.calls(bin).first)
            #expect(
                call.contains("--jobs=12,13") && call.contains("--me") && call.contains("--states=all"),
                "\(call)")
        }
    }

    @Test("cancels asked while one scancel runs go out together, one scancel per signal")
    func cancelsAreGathered() throws {
        try withTemporaryFolder { root in
            let bin = root + "/bin"
            try FileSystem.makeDirectory(bin)
            try Self.standIn("scancel", in: bin)
            let work = try BackgroundWork()
            let lanes = SlurmLanes(background: work, log: Logger(quiet: true))
            let client = Self.client(root, bin: bin)
            lanes.cancel("1", signal: nil, client: client)
            for (job, signal) in [("2", nil), ("4", nil), ("3", "TERM"), ("2", nil)] as [(String, String?)] {
                lanes.cancel(job, signal: signal, client: client)
            }
            try write(bin + "/release", "")
            Self.drain(work) { Self.calls(bin).count == 3 && work.pending == 0 }
            #expect(Self.calls(bin) == ["scancel 1", "scancel 2 4", "scancel --signal=TERM --full 3"])
        }
    }
}
