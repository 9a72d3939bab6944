#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The manifest's `created` field: RFC 3339 in UTC with whole seconds, `2026-11-21T19:00:00Z`,
/// the one spelling of each instant, so that the manifest keeps a single encoding.
enum UTCTimestamp {
    static func now() -> String {
        var seconds = time(nil)
        var fields = tm()
        gmtime_r(&seconds, &fields)
        let pad = { (value: Int32, width: Int) in
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(fields.tm_year + 1900, 4))-\(pad(fields.tm_mon + 1, 2))-\(pad(fields.tm_mday, 2))"
            + "T\(pad(fields.tm_hour, 2)):\(pad(fields.tm_min, 2)):\(pad(fields.tm_sec, 2))Z"
    }

    /// Checks the shape and the range of each field; 60 seconds allows a leap second.
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let shape = Array("dddd-dd-ddTdd:dd:ddZ".utf8)
        guard bytes.count == shape.count else { return false }
        for (byte, expected) in zip(bytes, shape) {
            let matches = expected == UInt8(ascii: "d") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == expected
            if !matches { return false }
        }
        let number = { (range: Range<Int>) in
            bytes[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        return (1...12).contains(number(5..<7)) && (1...31).contains(number(8..<10))
            && number(11..<13) <= 23 && number(14..<16) <= 59 && number(17..<19) <= 60
    }
}
