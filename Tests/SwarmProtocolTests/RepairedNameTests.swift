import SwarmProtocol
import Testing

/// The names given to files whose names are not UTF-8, before intake takes them in.
@Suite struct RepairedNameTests {
    @Test("a repaired name keeps valid characters, escapes other bytes and stays short")
    func repairedNames() {
        #expect(RepairedName.of(Array("caf".utf8) + [0xE9] + Array(".md".utf8)) == "caf%E9.md")
        #expect(RepairedName.of(Array("café".utf8) + [0xFF]) == "café%FF", "valid UTF-8 stays as it is")
        #expect(RepairedName.of([0xC0, 0x80]) == "%C0%80", "an overlong encoding is no character")
        #expect(RepairedName.of([0xED, 0xA0, 0x80]) == "%ED%A0%80", "nor is a surrogate")
        let long = RepairedName.of([UInt8](repeating: 0xE9, count: 250) + Array(".md".utf8))
        #expect(long.utf8.count <= RepairedName.maxLength && long.hasSuffix("%E9.md"), "\(long)")
        #expect(RepairedName.candidate("caf%E9.md", attempt: 1) == "caf%E9.md")
        #expect(RepairedName.candidate("caf%E9.md", attempt: 3) == "caf%E9-3.md")
        #expect(RepairedName.candidate("noext", attempt: 2) == "noext-2")
    }
}
