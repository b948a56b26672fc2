import SwarmProtocol
import Testing

@testable import SwarmRuntime

@Suite("upstreams.json: written and read back")
struct UpstreamSnapshotTests {
    static func full() -> UpstreamSnapshot.Entry {
        var entry = UpstreamSnapshot.Entry(
            name: "primary", domain: "api.example", breaker: "open", openUntil: "2026-12-04T10:00:00.000Z",
            concurrencyLimit: 4, inFlight: 2, calls: 17, failures: 3, disabled: "no key",
            recentErrors: ["529 overloaded", "timeout"])
        entry.health = "open"
        entry.page = "degraded"
        entry.pageDetail = "Elevated errors"
        entry.pageAt = "2026-12-04T09:59:00.000Z"
        entry.parked = "usage limit"
        entry.parkedUntil = "2026-12-04T12:00:00.000Z"
        return entry
    }

    @Test("every member round-trips; an absent optional is left out, not null")
    func roundTrip() throws {
        let bare = UpstreamSnapshot.Entry(
            name: "backup", domain: "backup", breaker: "closed", openUntil: nil, concurrencyLimit: nil,
            inFlight: 0, calls: 0, failures: 0, disabled: nil, recentErrors: [])
        let snapshot = UpstreamSnapshot(updated: "2026-12-04T10:00:00.000Z", upstreams: [Self.full(), bare])
        let bytes = JSON.encodeBytes(snapshot.json)
        let read = try #require(UpstreamSnapshot(json: try JSON.parse(bytes)))
        #expect(read == snapshot)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("null"), "\(text)")
        #expect(text.contains("\"concurrencyLimit\": 4") && text.contains("\"parkedUntil\""), "\(text)")
    }

    @Test("a document that is not upstreams.json reads as nothing")
    func notOne() throws {
        #expect(UpstreamSnapshot(json: try JSON.parse(Array(#"{"updated": "x"}"#.utf8))) == nil)
        #expect(
            UpstreamSnapshot(
                json: try JSON.parse(Array(#"{"updated": "x", "upstreams": [{"name": 1}]}"#.utf8)))
                == nil)
    }
}
