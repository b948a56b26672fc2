import SwarmProtocol
import Testing

@Test(
    arguments: [
        ("512KB", 524_288), ("16MB", 16_777_216), ("1GB", 1_073_741_824), ("2TB", 2_199_023_255_552),
        ("4096", 4096), ("0", 0), ("100B", 100), (" 1MB\n", 1_048_576), ("007KB", 7168),
        ("", nil), ("KB", nil), ("1.5MB", nil), ("-1MB", nil), ("+1MB", nil), ("1 MB", nil), ("1mb", nil),
        ("1K", nil), ("1MiB", nil), ("1PB", nil), ("10MBs", nil), ("9999999999999999999", nil),
        ("9999999TB", nil),
    ] as [(String, Int64?)])
func parsesSizes(_ text: String, _ bytes: Int64?) {
    #expect(SizeText.parse(text) == bytes)
}

@Test(
    arguments: [
        (16_777_216, "16MB"), (1_048_576, "1MB"), (524_288, "512KB"), (2048, "2KB"), (1536, "1536"),
        (0, "0"), (1, "1"), (1_073_741_824, "1GB"), (1 << 40, "1TB"), (3 << 40, "3TB"),
    ] as [(Int64, String)])
func formatsSizes(_ bytes: Int64, _ text: String) {
    #expect(SizeText.format(bytes) == text)
    #expect(SizeText.parse(text) == bytes)
}
