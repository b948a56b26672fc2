import SwarmProtocol
import Testing

/// One recorded usage-limit message (Fixtures/usage-limits/messages.jsonl).
struct UsageLimitFixture: Sendable, CustomStringConvertible {
    var cli: String
    var source: String
    var text: String
    var reset: JSONValue

    var description: String { "\(cli): \(text.prefix(60))" }

    static let all: [UsageLimitFixture] = {
        guard let bytes = try? fixtureBytes("usage-limits/messages.jsonl") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let value = try? JSON.parse(Array(line.utf8)) else { return nil }
            return UsageLimitFixture(
                cli: value["cli"]?.stringValue ?? "", source: value["source"]?.stringValue ?? "",
                text: value["text"]?.stringValue ?? "", reset: value["reset"] ?? .null)
        }
    }()

    /// The reset the line says the text names.
    var expected: LimitReset? {
        if let epoch = reset["epoch"]?.intValue { return .instant(epoch * 1000) }
        if let wait = reset["after"]?.intValue { return .after(wait) }
        guard let clock = reset["clock"]?.stringValue else { return nil }
        let parts = clock.split(separator: ":").compactMap { Int($0) }
        return .clock(
            WallClockTime(
                hour: parts[0], minute: parts[1], month: reset["month"]?.intValue.map(Int.init),
                day: reset["day"]?.intValue.map(Int.init), year: reset["year"]?.intValue.map(Int.init),
                zone: reset["zone"]?.stringValue))
    }
}

@Suite struct UsageLimitTests {
    @Test func theFixturesAreThere() {
        #expect(UsageLimitFixture.all.count >= 15)
        #expect(UsageLimitFixture.all.allSatisfy { $0.source.hasPrefix("https://github.com/") })
    }

    /// Every recorded message is a usage limit (not a rate limit, not a quota) and its reset is
    /// read as the fixture says, on its own and inside a Claude Code JSON result.
    @Test(arguments: UsageLimitFixture.all)
    func recordedMessagesAreUsageLimitsWithTheirReset(_ fixture: UsageLimitFixture) {
        #expect(LimitResetText.find(in: fixture.text) == fixture.expected, "\(fixture.source)")
        let diagnosis = FailureClassifier.classify(message: fixture.text, source: "stderr")
        #expect(diagnosis?.errorClass == .usageLimit, "\(fixture.source)")
        #expect(diagnosis?.resetsAt == fixture.expected, "\(fixture.source)")
        var result = JSONObject()
        result["type"] = "result"
        result["subtype"] = "success"
        result["is_error"] = true
        result["api_error_status"] = 429
        result["result"] = .string(fixture.text)
        let stdout = Array(JSON.encode(.object(result), pretty: false).utf8)
        let fromJSON = FailureClassifier.classify(stdout: stdout, stderr: [], exitCode: 1)
        #expect(fromJSON?.errorClass == .usageLimit && fromJSON?.resetsAt == fixture.expected)
    }

    /// A rejected `rate_limit_event` gives the exact reset, even when the text after it names
    /// only a rounded wall-clock time.
    @Test func aRejectedRateLimitEventGivesTheExactReset() {
        let stdout = """
            {"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1790161200,"rateLimitType":"seven_day"}}
            {"type":"result","subtype":"success","is_error":true,"api_error_status":429,"result":"You've hit your weekly limit · resets Mon 9am (Europe/Berlin)"}
            """
        let diagnosis = FailureClassifier.classify(stdout: utf8(stdout), stderr: [], exitCode: 1)
        #expect(diagnosis?.errorClass == .usageLimit)
        #expect(diagnosis?.resetsAt == .instant(1_790_161_200_000))
    }

    /// A credit balance or an API quota does not reset by itself: it stays `quota`.
    @Test(arguments: [
        "Credit balance is too low",
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
    ])
    func quotasAreNotUsageLimits(_ text: String) {
        #expect(FailureClassifier.classify(message: text, source: "stderr")?.errorClass == .quotaExhausted)
    }

    /// An agent's own report: `error_kind: usage-limit`, its reset from `retry_after_ms` or
    /// from the message.
    @Test func reportedUsageLimits() {
        let timed = FailureClassifier.fromReportedKind(
            "usage_limit", message: "limit reached", retryAfterMilliseconds: 60_000)
        #expect(timed?.errorClass == .usageLimit && timed?.resetsAt == .after(60_000))
        let worded = FailureClassifier.fromReportedKind(
            "usage-limit", message: "You've hit your limit · resets 4am (Europe/London)",
            retryAfterMilliseconds: nil)
        #expect(worded?.resetsAt == .clock(WallClockTime(hour: 4, zone: "Europe/London")))
    }

    /// Texts that name no time, or a time that cannot be one, give no reset.
    @Test(arguments: [
        "You've hit your limit", "resets soon", "resets 25:00", "resets 13pm", "resets 7", "reset at noon",
        "resets 4pm (../../etc/passwd)",
    ])
    func textsWithoutAResetGiveNone(_ text: String) {
        let found = LimitResetText.find(in: text)
        if text.contains("passwd") {
            #expect(found == .clock(WallClockTime(hour: 16)), "a bad zone name is dropped, the time kept")
        } else {
            #expect(found == nil, "\(text)")
        }
    }
}

/// Time zones from the machine's TZif files, and reset times resolved in them.
@Suite struct ZoneRulesTests {
    /// The machine's zone file, or nil (then the test is skipped).
    static func zone(_ name: String) -> ZoneRules? {
        (try? readWholeFile("/usr/share/zoneinfo/" + name)).flatMap { try? ZoneRules.parse(tzif: $0) }
    }

    /// Offsets in summer and winter, inside the file's transitions and past them (2040: the
    /// footer's POSIX rule), north and south of the equator.
    @Test(arguments: [
        ("Europe/London", Int64(1_783_166_400), Int64(3600)),  // 2026-07-04 12:00Z
        ("Europe/London", 1_768_478_400, 0),  // 2026-01-15
        ("America/Denver", 1_783_166_400, -21_600),
        ("America/Denver", 1_768_478_400, -25_200),
        ("Asia/Kolkata", 1_768_478_400, 19_800),
        ("Australia/Sydney", 1_768_478_400, 39_600),
        ("Australia/Sydney", 1_783_166_400, 36_000),
        ("Europe/London", 2_224_753_200, 3600),  // 2040-07-01 11:00Z
        ("Europe/London", 2_210_227_200, 0),  // 2040-01-15
        ("Australia/Sydney", 2_241_824_400, 39_600),  // 2041-01-15
    ])
    func offsets(_ name: String, _ at: Int64, _ offset: Int64) throws {
        guard let rules = Self.zone(name) else { return }
        #expect(rules.offset(at: at) == offset, "\(name) at \(at)")
    }

    @Test func aFileThatIsNotTZifIsAnError() {
        #expect(failure { () throws(ProtocolError) in try ZoneRules.parse(tzif: utf8("not a zone")) } != nil)
        let cut = Array("TZif2".utf8) + [UInt8](repeating: 0, count: 30)
        #expect(failure { () throws(ProtocolError) in try ZoneRules.parse(tzif: cut) } != nil)
    }

    /// Saturday 2026-07-04 10:00Z.
    static let saturday: Int64 = 1_783_159_200_000

    @Test func wallClockTimesResolveToTheNextSuchTime() throws {
        let utc = ZoneRules.utc
        // later today, in the zone the message names
        if let denver = Self.zone("America/Denver") {
            #expect(
                WallClockTime(hour: 16, minute: 50).instant(after: Self.saturday, in: denver)
                    == 1_783_205_400_000)
        }
        // the next Monday
        if let berlin = Self.zone("Europe/Berlin") {
            #expect(
                WallClockTime(hour: 9, weekday: 1).instant(after: Self.saturday, in: berlin)
                    == 1_783_321_200_000)
        }
        // a date
        if let kolkata = Self.zone("Asia/Kolkata") {
            let january28: Int64 = 1_769_601_600_000
            #expect(
                WallClockTime(hour: 11, minute: 30, month: 1, day: 30).instant(after: january28, in: kolkata)
                    == 1_769_752_800_000)
        }
        // a time already past today is tomorrow's
        #expect(WallClockTime(hour: 5).instant(after: Self.saturday, in: utc) == 1_783_227_600_000)
        // one that passed a moment ago (a CLI rounds to the minute) is now
        #expect(WallClockTime(hour: 9, minute: 55).instant(after: Self.saturday, in: utc) == Self.saturday)
        // a date with its year
        #expect(
            WallClockTime(hour: 20, minute: 19, month: 7, day: 5, year: 2026).instant(
                after: Self.saturday, in: utc)
                == 1_783_282_740_000)
    }
}
