@testable import HTTP
import Testing

/// The one header parser both kinds of transfer use: a status line starts a new response, a
/// field's name is lowercased and its value trimmed, anything else is ignored.
struct HeaderLineTests {
    static func parse(_ text: String) -> HeaderLine {
        Array(text.utf8).withUnsafeBytes { HeaderLine($0) }
    }

    @Test func aStatusLineStartsANewResponse() {
        #expect(Self.parse("HTTP/1.1 206 Partial Content\r\n") == .status)
        #expect(Self.parse("HTTP/2 302\r\n") == .status)
    }

    @Test func aFieldIsLowercasedAndTrimmed() {
        #expect(Self.parse("Content-Range:  bytes 0-99/1000 \r\n") == .field(name: "content-range", value: "bytes 0-99/1000"))
        #expect(Self.parse("ETag: \"abc:def\"\r\n") == .field(name: "etag", value: "\"abc:def\""), "only the first colon separates")
    }

    @Test func theBlankLineAndGarbageAreNeither() {
        #expect(Self.parse("\r\n") == .other)
        #expect(Self.parse("no colon here") == .other)
        #expect(Self.parse("") == .other)
    }
}
