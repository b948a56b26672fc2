import SwarmProtocol
import Testing

@Test(
    arguments: [
        ("250ms", 250), ("30s", 30_000), ("15m", 900_000), ("2h", 7_200_000), ("0s", 0), ("0ms", 0),
        (" 5s\n", 5000),
        ("1500ms", 1500), ("007s", 7000),
        ("1500", nil), ("", nil), ("s", nil), ("1.5s", nil), ("-1s", nil), ("+1s", nil), ("1 s", nil),
        ("1S", nil),
        ("1d", nil), ("1h30m", nil), ("10sec", nil), ("9999999999999999999ms", nil),
        ("9999999999999999h", nil),
    ] as [(String, Int64?)])
func parsesDurations(_ text: String, _ milliseconds: Int64?) {
    #expect(DurationText.parse(text) == milliseconds)
}

@Test(
    arguments: [
        (900_000, "15m"), (1500, "1500ms"), (30_000, "30s"), (7_200_000, "2h"), (0, "0s"), (1, "1ms"),
        (90_000, "90s"),
        (5_400_000, "90m"), (86_400_000, "24h"), (-2000, "-2s"),
    ] as [(Int64, String)])
func formatsDurations(_ milliseconds: Int64, _ text: String) {
    #expect(DurationText.format(milliseconds) == text)
    #expect(DurationText.parse(text) == milliseconds || milliseconds < 0)
}

@Test(
    arguments: [
        (0, "1970-01-01T00:00:00.000Z"), (1_795_521_600_123, "2026-11-24T12:00:00.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"), (-1, "1969-12-31T23:59:59.999Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"), (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
    ] as [(Int64, String)])
func formatsTimestamps(_ milliseconds: Int64, _ text: String) {
    #expect(Timestamp.iso8601(milliseconds: milliseconds) == text)
    #expect(Timestamp.parse(text) == milliseconds)
}

@Test(
    arguments: [
        ("2026-11-24T12:00:00Z", 1_795_521_600_000), ("2026-11-24T12:00:00.1Z", 1_795_521_600_100),
        ("2026-11-24T12:00:00.123456789Z", 1_795_521_600_123),
        ("2026-11-24T13:30:00+01:30", 1_795_521_600_000),
        ("2026-11-24T07:00:00-0500", 1_795_521_600_000), ("2026-11-24t12:00:00z", 1_795_521_600_000),
        ("2026-11-24T12:00:00", nil), ("2026-11-24 12:00:00Z", nil), ("2026-13-01T00:00:00Z", nil),
        ("2026-02-29T00:00:00Z", nil), ("2026-11-24T24:00:00Z", nil), ("2026-11-24T12:60:00Z", nil),
        ("2026-11-24T12:00:60Z", nil), ("2026-11-24T12:00:00.Z", nil), ("2026-11-24T12:00:00Zjunk", nil),
        ("26-11-24T12:00:00Z", nil), ("", nil), ("2026-11-24T12:00:00+25:00", nil),
    ] as [(String, Int64?)])
func parsesTimestamps(_ text: String, _ milliseconds: Int64?) {
    #expect(Timestamp.parse(text) == milliseconds)
}

@Test func timestampsOutsideFourDigitYearsKeepTheirDigitsAndSign() {
    #expect(Timestamp.iso8601(milliseconds: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
    #expect(Timestamp.iso8601(milliseconds: -62_167_219_200_001) == "-0001-12-31T23:59:59.999Z")
}

@Test func timestampsRoundTripAcrossCenturies() {
    var value: Int64 = -62_135_596_800_000  // 0001-01-01
    let step: Int64 = 81_649_484_537  // about 2.6 years, odd so every field varies
    while value < 253_402_300_800_000 {
        let text = Timestamp.iso8601(milliseconds: value)
        #expect(Timestamp.parse(text) == value, "\(text)")
        value += step
    }
}

@Test func formatsAndParsesProgressLines() throws {
    let line = ProgressLine(
        timeMilliseconds: 1_795_521_600_123, outputs: 3, status: "  wrote\nfile\u{1}a.txt\t ")
    #expect(line.formatted() == "2026-11-24T12:00:00.123Z outputs=3 wrote file a.txt\n")
    #expect(ProgressLine(timeMilliseconds: 0, status: "hi").formatted() == "1970-01-01T00:00:00.000Z hi\n")
    #expect(
        ProgressLine(timeMilliseconds: 0, outputs: 0, status: "").formatted()
            == "1970-01-01T00:00:00.000Z outputs=0\n")
    let long = ProgressLine(timeMilliseconds: 0, status: String(repeating: "é", count: 800)).formatted()
    #expect(long.count == 24 + 1 + 500 + 1)

    let parsed = try #require(ProgressLine.parse("2026-11-24T12:00:00.123Z outputs=3 wrote file a.txt\n"))
    #expect(
        parsed == ProgressLine(timeMilliseconds: 1_795_521_600_123, outputs: 3, status: "wrote file a.txt"))
    #expect(ProgressLine.parse("2026-11-24T12:00:00Z   working hard")?.outputs == nil)
    #expect(ProgressLine.parse("2026-11-24T12:00:00Z outputs=x working")?.status == "outputs=x working")
    #expect(ProgressLine.parse("2026-11-24T12:00:00Z outputs=7")?.outputs == 7)
    #expect(ProgressLine.parse("yesterday outputs=1 done") == nil)
    #expect(ProgressLine.parse("") == nil)
}

@Test func parsesFailureActionsAndBackoff() {
    #expect(FailureAction.parse("retry 3") == .retry(3))
    #expect(FailureAction.parse("  retry   0 ") == .retry(0))
    #expect(FailureAction.parse("dead-letter") == .deadLetter)
    #expect(FailureAction.parse("skip") == .skip && FailureAction.parse("fail") == .fail)
    for bad in ["retry", "retry -1", "retry x", "Retry 2", "deadletter", "", "skip now"] {
        #expect(FailureAction.parse(bad) == nil, "\(bad)")
    }
    for action in [FailureAction.retry(2), .deadLetter, .skip, .fail] {
        #expect(FailureAction.parse(action.text) == action)
    }
    #expect(FailurePolicy.standard.action(for: .exit) == .retry(2))
    #expect(FailurePolicy.standard.action(for: .killed) == .retry(1))
    #expect(FailurePolicy.standard.action(for: .upstream) == .retry(5))
    #expect(FailurePolicy.standard.action(for: .error) == .deadLetter)
    #expect(FailurePolicy(actions: [:]).action(for: .budget) == .deadLetter)
    #expect(FailurePolicy.parseBackoff("500ms..30s")! == (500, 30_000))
    #expect(FailurePolicy.parseBackoff("1s..1s")! == (1000, 1000))
    for bad in ["30s..500ms", "0s..1s", "500ms...30s", "500ms", "..30s", "1x..2s"] {
        #expect(FailurePolicy.parseBackoff(bad) == nil, "\(bad)")
    }
    let policy = FailurePolicy.standard
    #expect(
        (1...8).map { policy.backoffCeiling(attempt: $0) } == [
            500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
        ])
    #expect(policy.backoffCeiling(attempt: 500) == 30_000)
}
