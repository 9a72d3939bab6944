/// Reads a multipart/byteranges body as it arrives: the answer to a GET that asked for several
/// ranges at once (RFC 9110 §14.6), split into its parts' ranges and bytes without holding the
/// body, so that a download of many ranges costs one request and no copies.
///
/// nginx writes such a body as
/// ```
/// \r\n--BOUNDARY\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-99/1000\r\n\r\n
/// <100 bytes>\r\n--BOUNDARY\r\n … <the last part>\r\n--BOUNDARY--\r\n
/// ```
/// Other servers leave out the first CRLF, and RFC 2046 lets a preamble come before the first
/// delimiter and an epilogue after the close delimiter; both are skipped.
///
/// A part's body is not searched for the boundary: its length is taken from its Content-Range,
/// so a body that happens to contain the boundary cannot cut it short, and a server that sends
/// more or fewer bytes than it declared is caught at once. The state is a few integers and one
/// header line buffer allocated in `init`; `feed` allocates nothing for body bytes.
///
/// After `feed` threw, the body is abandoned: the parser is not fed again.
public struct MultipartByteRanges: Sendable {
    /// The header section of one part may be this long, blank line included. nginx sends about
    /// 90 bytes; the limit only keeps a hostile server from growing the buffer.
    public static let headerSectionLimit = 8 << 10

    /// The boundary, unquoted: what follows `--` on a delimiter line.
    public let boundary: String

    /// `\r\n--BOUNDARY`: what ends every part's body, and what starts the first part (where the
    /// CRLF belongs to the delimiter, and may be missing at the very start of the body).
    private let delimiter: [UInt8]

    private enum Phase: Sendable {
        /// Looking for the first delimiter: everything before it is preamble.
        case preamble
        /// Right after a part's body: the delimiter must follow at once.
        case delimiter
        /// `--BOUNDARY` was read: next comes `--` (the end), or padding and CRLF (a part).
        case afterBoundary
        /// `--BOUNDARY-`: the second `-` closes the body.
        case closeDash
        /// Transport padding (spaces and tabs) after the boundary, before the CR.
        case padding
        /// The CR of the delimiter line was read; its LF starts the part's headers.
        case lineFeed
        case headers
        case body
        /// After the close delimiter: everything is epilogue and ignored.
        case epilogue
    }

    private var phase = Phase.preamble
    /// How many bytes of `delimiter` matched so far.
    private var matched: Int
    /// Whether the delimiter being matched is still in the preamble, where a near miss is
    /// just preamble text, rather than after a part's body, where it is the server's error.
    private var inPreamble = true

    /// The current part's header line, fixed in size: `lineLength` bytes of it are in use.
    private var line: [UInt8]
    private var lineLength = 0
    /// Bytes of the current part's header section so far, checked against the limit.
    private var headerBytes = 0
    /// The current part's Content-Range, once its header line was read.
    private var range: Range<UInt64>?
    private var total: UInt64?

    /// The next body byte's offset in the file, and how many of the part's bytes are still due.
    private var offset: UInt64 = 0
    private var remaining: UInt64 = 0

    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")
    private static let dash = UInt8(ascii: "-")

    /// The boundary from a Content-Type header value such as `multipart/byteranges; boundary=3d6b6a416f9b5` (the boundary may be quoted, parameters may come in any order, case-insensitive media type and parameter name); nil when the value is not multipart/byteranges or has no valid boundary (1–70 chars per RFC 2046).
    public init?(contentType: String) {
        guard let boundary = Self.boundary(inContentType: Array(contentType.utf8)) else { return nil }
        self.boundary = String(decoding: boundary, as: UTF8.self)
        delimiter = Array("\r\n--".utf8) + boundary
        // The body may start with the delimiter itself: as if a CRLF had come before it.
        matched = 2
        line = [UInt8](repeating: 0, count: Self.headerSectionLimit)
    }

    /// Feeds the next body bytes. Calls `part` with each part's range (from its Content-Range: `bytes FIRST-LAST/TOTAL` or `bytes FIRST-LAST/*`; returns the half-open range FIRST..<LAST+1 and TOTAL if given) when the part's headers end, and `data` with the absolute file offset and the bytes of the part's body (slices of the input, never copied; may be called several times per part as bytes arrive in pieces of any size, down to 1 byte).
    ///
    /// Throws `MultipartError` for a malformed body, and what `part` or `data` threw.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              part: (Range<UInt64>, UInt64?) throws -> Void,
                              data: (UInt64, UnsafeRawBufferPointer) throws -> Void) throws {
        var index = 0
        while index < bytes.count {
            switch phase {
            case .body:
                // As much of the part as this piece holds, in one slice: the bulk of the body
                // never goes through the byte-by-byte states.
                let available = bytes.count - index
                let count = remaining < UInt64(available) ? Int(remaining) : available
                try data(offset, UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)]))
                // Neither overflows: `offset + remaining` is the part's LAST + 1, checked when
                // the Content-Range was read, and `count` is at most `remaining`.
                offset += UInt64(count)
                remaining -= UInt64(count)
                index += count
                if remaining == 0 {
                    phase = .delimiter
                    matched = 0
                }
            case .epilogue:
                return
            default:
                try step(bytes[index], part: part)
                index += 1
            }
        }
    }

    /// Throws unless the close delimiter was seen.
    public func finish() throws(MultipartError) {
        guard case .epilogue = phase else { throw .truncated }
    }

    /// One byte outside a part's body: the delimiters and the header sections.
    private mutating func step(_ byte: UInt8, part: (Range<UInt64>, UInt64?) throws -> Void) throws {
        switch phase {
        case .preamble, .delimiter:
            guard byte == delimiter[matched] else { return try missedDelimiter(at: byte) }
            matched += 1
            if matched == delimiter.count { phase = .afterBoundary }
        case .afterBoundary:
            switch byte {
            case Self.dash: phase = .closeDash
            case UInt8(ascii: " "), UInt8(ascii: "\t"): phase = .padding
            case Self.carriageReturn: phase = .lineFeed
            default: try missedDelimiter(at: byte)
            }
        case .closeDash:
            guard byte == Self.dash else { return try missedDelimiter(at: byte) }
            // A multipart body has at least one part (RFC 2046): one that closes at once
            // answers no range, which a caller must not take for an empty success.
            if inPreamble { throw MultipartError.noParts }
            phase = .epilogue
        case .padding:
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): break
            case Self.carriageReturn: phase = .lineFeed
            default: try missedDelimiter(at: byte)
            }
        case .lineFeed:
            guard byte == Self.lineFeed else { return try missedDelimiter(at: byte) }
            inPreamble = false
            phase = .headers
            headerBytes = 0
            lineLength = 0
            range = nil
            total = nil
        case .headers:
            try header(byte, part: part)
        case .body, .epilogue:
            // `feed` handles these without going byte by byte.
            break
        }
    }

    /// A byte that is not the next one of a delimiter line. In the preamble it is just text,
    /// and may itself start the next try (the delimiter's only CR is its first byte, since a
    /// boundary holds none, so no other restart point can be missed). After a part's body the
    /// delimiter had to be there.
    private mutating func missedDelimiter(at byte: UInt8) throws(MultipartError) {
        guard inPreamble else { throw .partBodyMismatch }
        phase = .preamble
        matched = byte == Self.carriageReturn ? 1 : 0
    }

    /// One byte of a part's header section: lines end with CRLF (a bare LF is taken too), and
    /// an empty line ends the section and starts the body.
    private mutating func header(_ byte: UInt8, part: (Range<UInt64>, UInt64?) throws -> Void) throws {
        headerBytes += 1
        guard headerBytes <= Self.headerSectionLimit else { throw MultipartError.headersTooLong }
        guard byte == Self.lineFeed else {
            // Fits: the line is shorter than the section so far, which is within the limit.
            line[lineLength] = byte
            lineLength += 1
            return
        }
        var end = lineLength
        if end > 0, line[end - 1] == Self.carriageReturn { end -= 1 }
        lineLength = 0
        guard end == 0 else { return try headerLine(line[0..<end]) }
        guard let range else { throw MultipartError.missingContentRange }
        try part(range, total)
        offset = range.lowerBound
        remaining = range.upperBound - range.lowerBound
        phase = .body
    }

    /// A complete header line: only Content-Range matters, the others (Content-Type) are skipped.
    private mutating func headerLine(_ text: ArraySlice<UInt8>) throws(MultipartError) {
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")),
              Self.equalIgnoringCase(text[text.startIndex..<colon], Self.contentRangeName) else { return }
        // Two could disagree, and which one the server meant cannot be told.
        guard range == nil else { throw .repeatedContentRange }
        (range, total) = try Self.parseContentRange(text[(colon + 1)...])
    }

    private static let contentRangeName = Array("content-range".utf8)
    private static let rangeUnit = Array("bytes".utf8)

    /// ` bytes FIRST-LAST/TOTAL` or ` bytes FIRST-LAST/*` → (FIRST..<LAST+1, TOTAL). A part
    /// always has a range, so the unsatisfied form `bytes */TOTAL` is refused.
    static func parseContentRange(_ value: ArraySlice<UInt8>) throws(MultipartError) -> (Range<UInt64>, UInt64?) {
        let trimmed = trimmingWhitespace(value)
        // Made only when thrown: a good part costs no String.
        var malformed: MultipartError { .malformedContentRange(printable(trimmed)) }
        var cursor = trimmed.startIndex
        guard trimmed.count > rangeUnit.count,
              equalIgnoringCase(trimmed[cursor..<(cursor + rangeUnit.count)], rangeUnit) else { throw malformed }
        cursor += rangeUnit.count
        guard trimmed[cursor] == UInt8(ascii: " ") else { throw malformed }
        while cursor < trimmed.endIndex, trimmed[cursor] == UInt8(ascii: " ") { cursor += 1 }
        guard let first = number(in: trimmed, at: &cursor), cursor < trimmed.endIndex, trimmed[cursor] == dash else { throw malformed }
        cursor += 1
        guard let last = number(in: trimmed, at: &cursor), cursor < trimmed.endIndex, trimmed[cursor] == UInt8(ascii: "/") else {
            throw malformed
        }
        cursor += 1
        var total: UInt64?
        if cursor < trimmed.endIndex, trimmed[cursor] == UInt8(ascii: "*") {
            cursor += 1
        } else {
            guard let complete = number(in: trimmed, at: &cursor) else { throw malformed }
            total = complete
        }
        guard cursor == trimmed.endIndex, first <= last else { throw malformed }
        // LAST + 1 must not overflow: within TOTAL it cannot, and without TOTAL LAST must be
        // below the largest offset.
        if let total {
            guard last < total else { throw malformed }
        } else {
            guard last < UInt64.max else { throw malformed }
        }
        return (first..<(last + 1), total)
    }

    /// The decimal digits at `cursor`, moving past them; nil when there are none or they
    /// overflow 64 bits.
    private static func number(in text: ArraySlice<UInt8>, at cursor: inout Int) -> UInt64? {
        let start = cursor
        var value: UInt64 = 0
        while cursor < text.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[cursor]) {
            let (tens, overflowedMultiplying) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAdding) = tens.addingReportingOverflow(UInt64(text[cursor] - UInt8(ascii: "0")))
            guard !overflowedMultiplying, !overflowedAdding else { return nil }
            value = sum
            cursor += 1
        }
        return cursor > start ? value : nil
    }

    // MARK: - The Content-Type header

    /// The boundary parameter of a multipart/byteranges media type, unquoted; nil for another
    /// media type, or a boundary missing, given twice, or not one RFC 2046 allows.
    static func boundary(inContentType value: [UInt8]) -> [UInt8]? {
        var cursor = 0
        func skipWhitespace() {
            while cursor < value.count, isWhitespace(value[cursor]) { cursor += 1 }
        }
        skipWhitespace()
        let typeStart = cursor
        while cursor < value.count, value[cursor] != UInt8(ascii: ";") { cursor += 1 }
        guard equalIgnoringCase(trimmingWhitespace(value[typeStart..<cursor]), mediaType) else { return nil }

        var boundary: [UInt8]?
        // parameters = *( OWS ";" OWS [ parameter ] ), parameter = name "=" ( token / quoted-string )
        while cursor < value.count {
            guard value[cursor] == UInt8(ascii: ";") else { return nil }
            cursor += 1
            skipWhitespace()
            let nameStart = cursor
            while cursor < value.count, isTokenCharacter(value[cursor]) { cursor += 1 }
            let name = value[nameStart..<cursor]
            if name.isEmpty {
                // An empty parameter (`;;` or a trailing `;`), which RFC 9110 allows.
                skipWhitespace()
                continue
            }
            guard cursor < value.count, value[cursor] == UInt8(ascii: "=") else { return nil }
            cursor += 1
            var parameter: [UInt8] = []
            if cursor < value.count, value[cursor] == UInt8(ascii: "\"") {
                cursor += 1
                var closed = false
                while cursor < value.count {
                    let byte = value[cursor]
                    cursor += 1
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    if byte == UInt8(ascii: "\\") {
                        guard cursor < value.count else { return nil }
                        parameter.append(value[cursor])
                        cursor += 1
                    } else {
                        parameter.append(byte)
                    }
                }
                guard closed else { return nil }
            } else {
                let valueStart = cursor
                while cursor < value.count, isTokenCharacter(value[cursor]) { cursor += 1 }
                parameter = Array(value[valueStart..<cursor])
                guard !parameter.isEmpty else { return nil }
            }
            if equalIgnoringCase(name, boundaryName) {
                // Two boundaries: which one delimits the parts cannot be told.
                guard boundary == nil else { return nil }
                boundary = parameter
            }
            skipWhitespace()
        }
        guard let boundary, isValidBoundary(boundary) else { return nil }
        return boundary
    }

    private static let mediaType = Array("multipart/byteranges".utf8)
    private static let boundaryName = Array("boundary".utf8)
    private static let boundaryPunctuation = Array("'()+_,-./:=? ".utf8)
    private static let tokenPunctuation = Array("!#$%&'*+-.^_`|~".utf8)

    /// RFC 2046 §5.1.1: 1 to 70 of its bchars, not ending in a space. This also keeps CR and LF
    /// out of it, which the delimiter matching relies on.
    private static func isValidBoundary(_ boundary: [UInt8]) -> Bool {
        guard (1...70).contains(boundary.count), boundary.last != UInt8(ascii: " ") else { return false }
        return boundary.allSatisfy { isAlphanumeric($0) || boundaryPunctuation.contains($0) }
    }

    /// RFC 9110's tchar.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || tokenPunctuation.contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    // MARK: - Bytes as ASCII text

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func trimmingWhitespace(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = text.startIndex, end = text.endIndex
        while start < end, isWhitespace(text[start]) { start += 1 }
        while end > start, isWhitespace(text[end - 1]) { end -= 1 }
        return text[start..<end]
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    /// Whether `text` is `lowercase` in any case: names and units in HTTP are case-insensitive.
    private static func equalIgnoringCase(_ text: ArraySlice<UInt8>, _ lowercase: [UInt8]) -> Bool {
        text.count == lowercase.count && zip(text, lowercase).allSatisfy { lowercased($0) == $1 }
    }

    /// A header value for a message: at most 100 bytes of it, and only its printable ASCII.
    private static func printable(_ text: ArraySlice<UInt8>) -> String {
        let shown = text.prefix(100).map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: "?") }
        return String(decoding: shown, as: UTF8.self) + (text.count > 100 ? "…" : "")
    }
}

/// Why a multipart/byteranges body could not be read.
public enum MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A part's header section is longer than `MultipartByteRanges.headerSectionLimit`.
    case headersTooLong
    /// A part's headers end without a Content-Range, so which bytes it holds is unknown.
    case missingContentRange
    /// A part has two Content-Range headers.
    case repeatedContentRange
    /// A Content-Range that is not `bytes FIRST-LAST/TOTAL` or `bytes FIRST-LAST/*` with
    /// FIRST ≤ LAST < TOTAL, or whose numbers do not fit 64 bits: the value as sent.
    case malformedContentRange(String)
    /// The delimiter was not right after a part's body, at the length its Content-Range gave.
    case partBodyMismatch
    /// The body closes before any part.
    case noParts
    /// The body ended before its close delimiter.
    case truncated

    public var description: String {
        switch self {
        case .headersTooLong:
            "the server's multipart/byteranges answer has a part whose headers exceed \(MultipartByteRanges.headerSectionLimit >> 10) KiB; refused"
        case .missingContentRange:
            "the server's multipart/byteranges answer has a part without a Content-Range header, so which bytes it holds is unknown"
        case .repeatedContentRange:
            "the server's multipart/byteranges answer has a part with two Content-Range headers"
        case let .malformedContentRange(value):
            "the server's multipart/byteranges answer has a part with the Content-Range \"\(value)\", not bytes FIRST-LAST/TOTAL with FIRST ≤ LAST < TOTAL"
        case .partBodyMismatch:
            "the server's multipart/byteranges answer has a part whose body is not as long as its Content-Range says"
        case .noParts:
            "the server's multipart/byteranges answer has no parts"
        case .truncated:
            "the server's multipart/byteranges answer ended before its closing boundary; the transfer was cut short"
        }
    }
}
