import SwarmCore
import SwarmProtocol
import Testing

@testable import SwarmReport

@Suite("ReportPage: one self-contained page, hostile text escaped, big trees folded")
struct ReportPageTests {
    static let hostile = #"<script>alert('x')</script>"&"#

    @Test func textFromTheTreeIsEscapedEverywhere() {
        let records = [
            record("w", sequence: 1, state: .failed, finished: 500, failure: Self.hostile)
        ]
        let input = ReportInput(
            records: records,
            events: [step(0, "w", .running, active: true), step(500, "w", .failed, failure: Self.hostile)],
            alerts: [ReportAlert(time: 100, kind: "spinning", agent: "w", message: Self.hostile)],
            maxSlots: 2,
            reserve: 0, deadLetters: ["w": "# w\n" + Self.hostile], root: "/tmp/<root>")
        let page = ReportPage(ReportBuilder.build(input)).render()
        #expect(!page.contains("<script"))
        #expect(!page.contains("<root>"))
        #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"))
        #expect(!page.contains("src="), "nothing is loaded")
    }

    @Test func htmlEscapeCoversMarkupQuotesAndControlCharacters() {
        #expect(HTML.escape("a<b>&\"'\u{1}\tz") == "a&lt;b&gt;&amp;&quot;&#39;\tz")
    }

    @Test func aBigTreeFoldsItsHealthySubtreesAndKeepsTroubleOpen() {
        var records = [record("root", kind: .orchestrator, slots: 10, sequence: 0)]
        var sequence = 1
        for m in 0..<10 {
            records.append(record("m\(m)", parent: "root", kind: .orchestrator, slots: 2, sequence: sequence))
            sequence += 1
            for w in 0..<15 {
                let troubled = m == 3 && w == 7
                records.append(
                    record(
                        "m\(m)-w\(w)", parent: "m\(m)", sequence: sequence,
                        state: troubled ? .deadLetter : .done,
                        finished: 1_000, failure: troubled ? "boom" : nil))
                sequence += 1
            }
        }
        let page = ReportPage(
            ReportBuilder.build(
                ReportInput(records: records, events: [], alerts: [], maxSlots: 12, reserve: 2))
        ).render()
        #expect(page.ranges(of: "<details open><summary><span class=\"r\"><span class=\"n\"").count == 2)
        #expect(page.ranges(of: "<details><summary><span class=\"r\"><span class=\"n\"").count == 9)
        #expect(page.contains(">m3-w7 <small"))
    }

    @Test func ticksAreRoundAndFew() {
        #expect(ReportPage.tickStep(530) == 100)
        #expect(ReportPage.tickStep(60_000) == 10_000)
        #expect(ReportPage.tickStep(8 * 3_600_000) == 3_600_000)
    }

    @Test func numbersReadWell() {
        #expect(HTML.grouped(1_234_567) == "1,234,567")
        #expect(HTML.dollars(12.345) == "$12.35")
        #expect(HTML.dollars(0.00123) == "$0.0012")
        #expect(HTML.duration(850) == "850ms")
        #expect(HTML.duration(12_500) == "13s")
        #expect(HTML.duration(2_500) == "2.5s")
        #expect(HTML.duration(245_000) == "4m05s")
        #expect(HTML.duration(7_800_000) == "2h10m")
        #expect(HTML.duration(600_000) == "10m")
        #expect(HTML.duration(3_600_000) == "1h")
    }
}
