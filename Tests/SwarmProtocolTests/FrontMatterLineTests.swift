import Testing

@testable import SwarmProtocol

/// The byte-by-byte reading of an ASCII front matter line gives what the character-by-character
/// reading gives: the same field, or (for a line that does not read) the same error.
@Test func asciiLinesReadAsCharacterByCharacter() {
    let alphabet = Array("ab:_-. #'\"\t\r\u{0B}\u{0C}x1=/")
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    func next(_ bound: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(bound))
    }
    let fixed = [
        "", "   ", "# note", "  # note", "key: value", "key:value", " key : value # comment",
        "key: a#b", "key: 'quoted # kept' # dropped", "key: \"x # y\"", "key: don't # stop", "key:#x",
        "k.e-y_1: v", ": empty key", "no colon here", "bad key: v", "key: v\t", "\tkey:\t v \u{0B}",
    ]
    var lines = fixed
    for _ in 0..<5_000 {
        lines.append(String((0..<next(14)).map { _ in alphabet[next(alphabet.count)] }))
    }
    for line in lines {
        let fast = Result { () throws(ProtocolError) in
            try FrontMatter.parseLine(Substring(line), lineNumber: 3)
        }
        let slow = Result { () throws(ProtocolError) in
            try FrontMatter.parseLineByCharacters(Substring(line), lineNumber: 3)
        }
        switch (fast, slow) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(line.debugDescription)")
        case (.failure(let a), .failure(let b)):
            #expect(a.description == b.description, "\(line.debugDescription)")
        default:
            Issue.record("\(line.debugDescription): \(fast) against \(slow)")
        }
    }
}
