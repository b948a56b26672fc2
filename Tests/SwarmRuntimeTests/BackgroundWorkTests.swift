@preconcurrency import Glibc
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// Waits until `fd` is readable or `milliseconds` pass; true when readable.
private func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, milliseconds) == 1
}

@Suite("Work off the loop's thread: lanes, the wake-up, cancellation")
struct BackgroundWorkTests {
    @Test("pieces of one lane run in order; their continuations run when the loop takes them")
    func oneLaneInOrder() throws {
        let work = try BackgroundWork()
        var seen: [Int] = []
        for n in 1...5 {
            work.submit(lane: "a") { _ in
                n * 10
            } then: {
                seen.append($0)
            }
        }
        #expect(work.pending == 5)
        var rounds = 0
        while work.pending > 0 && rounds < 100 {
            #expect(readable(work.descriptor, within: 5_000))
            work.takeFinished()
            rounds += 1
        }
        #expect(seen == [10, 20, 30, 40, 50])
        #expect(!readable(work.descriptor, within: 0), "the wake-up stays readable after it was taken")
    }

    @Test("a slow lane does not hold up another one")
    func lanesAreIndependent() throws {
        let work = try BackgroundWork()
        let release = Cancellation()
        var finished: [String] = []
        work.submit(lane: "slow") { _ in
            while !release.isCancelled { usleep(1_000) }
            return "slow"
        } then: {
            finished.append($0)
        }
        work.submit(lane: "fast") { _ in
            "fast"
        } then: {
            finished.append($0)
        }
        #expect(readable(work.descriptor, within: 5_000))
        work.takeFinished()
        #expect(finished == ["fast"])
        release.cancel()
        #expect(readable(work.descriptor, within: 5_000))
        work.takeFinished()
        #expect(finished == ["fast", "slow"])
    }

    @Test("cancelAll kills the helper command of a running piece; its continuation never runs")
    func cancelAll() throws {
        try withTemporaryFolder { dir in
            let work = try BackgroundWork()
            let marker = dir + "/begun"
            var ran = false
            work.submit(lane: "check") { cancellation in
                (try? CommandRunner.run(
                    "/bin/sh", ["-c", "touch \(marker); exec sleep 30"], environment: [],
                    cancellation: cancellation))?.status == nil
            } then: { _ in
                ran = true
            }
            #expect(waitUntil { FileSystem.exists(marker) })
            work.cancelAll()
            #expect(work.pending == 0)
            #expect(readable(work.descriptor, within: 10_000), "the killed command's piece finished")
            work.takeFinished()
            #expect(!ran)
        }
    }
}
