import SwarmCore
import SwarmProtocol

/// The status pages in the loop: fetches that ended are read and fed to the scheduler, and the
/// fetches that are due start.
extension Daemon {
    /// Reads what ended, starts what is due, and tells the scheduler each reading.
    func lookAtStatusPages() {
        let readings = statusPages.reap(now: now, epoll: epoll) + statusPages.startDue(now: now, epoll: epoll)
        for reading in readings {
            let before = scheduler.router.upstreams.first { $0.spec.name == reading.upstream }?.page?.verdict
            if before?.health != reading.verdict.health {
                log.info(
                    "status page of upstream \(reading.upstream): \(reading.verdict.health.rawValue) "
                        + "(\(reading.verdict.detail))")
            }
            feed(.statusPage(upstream: reading.upstream, verdict: reading.verdict))
        }
    }
}
