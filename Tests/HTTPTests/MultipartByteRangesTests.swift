import Foundation
@testable import HTTP
import Testing
import TestSupport

/// The multipart/byteranges reader: the bodies nginx and other servers send, fed whole and in
/// pieces of every size, and the ways a broken or hostile server can get them wrong.
struct MultipartByteRangesTests {
    /// What a body yielded: each part's range and total, and its bytes put together.
    struct Part: Equatable, CustomStringConvertible {
        var range: Range<UInt64>
        var total: UInt64?
        var bytes: [UInt8] = []

        var description: String { "\(range) of \(total.map { "\($0)" } ?? "*"): \(bytes.count) bytes" }
    }

    /// A file whose every byte differs from its neighbours, with the boundary and CRLFs inside,
    /// so that a part's body holding what looks like a delimiter is read by its length.
    static let file: [UInt8] = {
        var bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        bytes.replaceSubrange(10..<(10 + 24), with: Array("\r\n--3d6b6a416f9b5\r\n\r\n--3".utf8))
        return bytes
    }()
    static let boundary = "3d6b6a416f9b5"
    static let contentType = "multipart/byteranges; boundary=\(boundary)"
    static let ranges: [Range<UInt64>] = [0..<100, 1000..<2000, 4999..<5000, 5..<40]

    /// The body nginx sends for `ranges` of `file` (ngx_http_range_filter_module: a CRLF first,
    /// every part's Content-Type and Content-Range, the close delimiter and a CRLF last).
    static func nginxBody(_ ranges: [Range<UInt64>] = ranges, of file: [UInt8] = file, boundary: String = boundary,
                          leadingCRLF: Bool = true) -> [UInt8] {
        var body: [UInt8] = []
        for (index, range) in ranges.enumerated() {
            body += Array("\(index == 0 && !leadingCRLF ? "" : "\r\n")--\(boundary)\r\n".utf8)
            body += Array("Content-Type: application/octet-stream\r\n".utf8)
            body += Array("Content-Range: bytes \(range.lowerBound)-\(range.upperBound - 1)/\(file.count)\r\n\r\n".utf8)
            body += file[Int(range.lowerBound)..<Int(range.upperBound)]
        }
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return body
    }

    static func expectedParts(_ ranges: [Range<UInt64>] = ranges, of file: [UInt8] = file) -> [Part] {
        ranges.map { Part(range: $0, total: UInt64(file.count), bytes: Array(file[Int($0.lowerBound)..<Int($0.upperBound)])) }
    }

    /// Feeds `body` in pieces of the given sizes (the last piece takes the rest) and finishes.
    /// Checks that every data call is a slice of the piece fed, at the next offset of its part.
    static func read(_ body: [UInt8], contentType: String = contentType, pieces: [Int] = []) throws -> [Part] {
        var reader = try #require(MultipartByteRanges(contentType: contentType))
        var parts: [Part] = []
        var position = 0
        var sizes = pieces.makeIterator()
        while position < body.count {
            let end = min(body.count, position + (sizes.next() ?? body.count))
            try body[position..<end].withUnsafeBytes { piece in
                try reader.feed(piece, part: { range, total in
                    parts.append(Part(range: range, total: total))
                }, data: { offset, bytes in
                    let base = try #require(piece.baseAddress), start = try #require(bytes.baseAddress)
                    #expect(start >= base && start + bytes.count <= base + piece.count, "data is a slice of the input")
                    #expect(!bytes.isEmpty)
                    guard let last = parts.indices.last else {
                        Issue.record("data before any part")
                        return
                    }
                    #expect(offset == parts[last].range.lowerBound + UInt64(parts[last].bytes.count), "data in order")
                    parts[last].bytes += bytes
                })
            }
            position = end
        }
        try reader.finish()
        return parts
    }

    static func error(_ body: [UInt8], contentType: String = contentType) -> MultipartError? {
        do {
            _ = try read(body, contentType: contentType)
            return nil
        } catch {
            return error as? MultipartError
        }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: - Bodies as servers send them

    @Test func nginxBodyWholeOneByteAtATimeAndInRandomPieces() throws {
        let body = Self.nginxBody()
        let expected = Self.expectedParts()
        #expect(try Self.read(body) == expected)
        #expect(try Self.read(body, pieces: Array(repeating: 1, count: body.count)) == expected)
        var random = SplitMix64(seed: 0x4D55_4C54_4950_4152)
        for _ in 0..<300 {
            let largest = [2, 8, 64, 1500].randomElement(using: &random) ?? 8
            let pieces = (0..<body.count).map { _ in Int.random(in: 1...largest, using: &random) }
            #expect(try Self.read(body, pieces: pieces) == expected)
        }
    }

    @Test func everySplitIntoTwoPieces() throws {
        let body = Self.nginxBody([0..<3, 7..<9], of: Array(Self.file.prefix(20)))
        let expected = Self.expectedParts([0..<3, 7..<9], of: Array(Self.file.prefix(20)))
        for split in 0...body.count {
            #expect(try Self.read(body, pieces: [split]) == expected, "split at \(split)")
        }
    }

    @Test func aBodyWithoutTheLeadingCRLF() throws {
        let body = Self.nginxBody(leadingCRLF: false)
        #expect(body.starts(with: Self.bytes("--\(Self.boundary)\r\n")))
        #expect(try Self.read(body) == Self.expectedParts())
        #expect(try Self.read(body, pieces: Array(repeating: 1, count: body.count)) == Self.expectedParts())
    }

    @Test func aPreambleAndAnEpilogueAreIgnored() throws {
        // The preamble holds near misses: the boundary not at a line start, with a suffix,
        // with a CR that is no CRLF, and a CRLF right before the real delimiter.
        let preamble = "This is a preamble. --\(Self.boundary) is not at a line start\r\n--\(Self.boundary)x\r\n"
            + "\r\n--\(Self.boundary)-x\r\n--\(Self.boundary)\r\r\n--\(Self.boundary) \tx\r\n\r\r\n"
        let epilogue = "This is the epilogue.\r\n--\(Self.boundary)\r\nContent-Range: nonsense\r\n\r\n"
        let body = Self.bytes(preamble) + Self.nginxBody(leadingCRLF: false) + Self.bytes(epilogue)
        #expect(try Self.read(body) == Self.expectedParts())
        #expect(try Self.read(body, pieces: Array(repeating: 1, count: body.count)) == Self.expectedParts())
    }

    @Test func transportPaddingAndOtherHeadersInAnyCase() throws {
        let body = Self.bytes("--B \t \r\nX-Other: 1\r\ncontent-RANGE:bytes 2-4/*  \r\nContent-Type: text/plain\r\n\r\nabc"
            + "\r\n--B\r\nCONTENT-RANGE: BYTES 0-0/1\n\nz\r\n--B--")
        #expect(try Self.read(body, contentType: "multipart/byteranges; boundary=B") == [
            Part(range: 2..<5, total: nil, bytes: Self.bytes("abc")),
            Part(range: 0..<1, total: 1, bytes: Self.bytes("z")),
        ])
    }

    @Test func theLargestRanges() throws {
        // LAST + 1 is the largest offset: accepted, and no trap on the way.
        var reader = try #require(MultipartByteRanges(contentType: "multipart/byteranges; boundary=B"))
        var seen: [Range<UInt64>] = []
        var offsets: [UInt64] = []
        try Self.bytes("--B\r\nContent-Range: bytes 18446744073709551613-18446744073709551614/*\r\n\r\nab").withUnsafeBytes {
            try reader.feed($0, part: { range, _ in seen.append(range) }, data: { offset, _ in offsets.append(offset) })
        }
        #expect(seen == [18_446_744_073_709_551_613..<UInt64.max])
        #expect(offsets == [18_446_744_073_709_551_613])
        #expect(throws: MultipartError.truncated) { try reader.finish() }
    }

    /// The real oracle: nginx itself, on a Unix socket, asked for several ranges by curl.
    @Test func whatNginxSends() throws {
        try Integration.require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") && Shell.which("curl"),
                                "nginx or curl is missing (make deps installs nginx-light and curl)")
        let scratch = try Scratch()
        let file = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        try scratch.write(file, to: "www/file")
        let socket = scratch.file("nginx.sock")
        // One process (no master), so that killing it ends nginx; as root it would otherwise
        // hand the socket to workers running as nobody, who cannot read the scratch directory.
        try scratch.write("""
            daemon off; master_process off; \(getuid() == 0 ? "user root;" : "") pid \(scratch.file("nginx.pid"));
            error_log \(scratch.file("error.log"));
            events { worker_connections 16; }
            http { access_log off; server { listen unix:\(socket); root \(scratch.file("www")); } }
            """, to: "nginx.conf")
        let nginx = Process()
        nginx.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        nginx.arguments = ["-e", scratch.file("error.log"), "-p", scratch.path, "-c", scratch.file("nginx.conf")]
        nginx.standardOutput = FileHandle.nullDevice
        nginx.standardError = FileHandle.nullDevice
        try nginx.run()
        defer {
            kill(nginx.processIdentifier, SIGKILL)
            nginx.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket), Date() < deadline, nginx.isRunning {
            usleep(20_000)
        }

        let asked = "0-99,1000-70000,299990-,-5,5-5,150000-150001"
        let answer = try Shell.capture(["curl", "-sS", "--unix-socket", socket, "-H", "Range: bytes=\(asked)",
                                        "-D", scratch.file("headers"), "-o", scratch.file("body"), "http://localhost/file"])
        #expect(answer.status == 0, "\(answer.stderr) \((try? String(contentsOfFile: scratch.file("error.log"), encoding: .utf8)) ?? "")")
        let headers = try String(contentsOfFile: scratch.file("headers"), encoding: .utf8)
        let contentType = try #require(headers.split(separator: "\r\n").compactMap { line -> String? in
            guard line.lowercased().hasPrefix("content-type:") else { return nil }
            return line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
        }.first)
        let body = try scratch.read("body")
        let expected = Self.expectedParts([0..<100, 1000..<70001, 299_990..<300_000, 299_995..<300_000, 5..<6, 150_000..<150_002],
                                          of: file)
        #expect(headers.hasPrefix("HTTP/1.1 206"))
        #expect(try Self.read(body, contentType: contentType) == expected)
        var random = SplitMix64(seed: 0x6E67_696E_78)
        let pieces = (0..<body.count).map { _ in Int.random(in: 1...700, using: &random) }
        #expect(try Self.read(body, contentType: contentType, pieces: pieces) == expected)
    }

    // MARK: - The Content-Type header

    @Test func theBoundaryFromTheContentType() {
        let accepted: [(String, String)] = [
            ("multipart/byteranges; boundary=3d6b6a416f9b5", "3d6b6a416f9b5"),
            ("multipart/byteranges; boundary=00000000000000000001", "00000000000000000001"),
            ("Multipart/ByteRanges;BOUNDARY=\"a b:c?d\"", "a b:c?d"),
            ("multipart/byteranges; charset=\"x;y\"; boundary=\"q\\=uoted\" ;", "q=uoted"),
            ("  multipart/byteranges ;; foo=bar ; Boundary=x  ", "x"),
            ("multipart/byteranges; boundary=" + String(repeating: "z", count: 70), String(repeating: "z", count: 70)),
        ]
        for (value, boundary) in accepted {
            #expect(MultipartByteRanges(contentType: value)?.boundary == boundary, "\(value)")
        }
        let refused = [
            "multipart/mixed; boundary=x",
            "application/octet-stream",
            "multipart/byteranges",
            "multipart/byteranges; boundary=",
            "multipart/byteranges; boundary=\"\"",
            "multipart/byteranges; boundary=\"unclosed",
            "multipart/byteranges; boundary=\"ends in a space \"",
            "multipart/byteranges; boundary=\"cr\rlf\n\"",
            "multipart/byteranges; boundary=\"q\\\"uoted\"",
            "multipart/byteranges; boundary=\"semi;colon\"",
            "multipart/byteranges; boundary=" + String(repeating: "z", count: 71),
            "multipart/byteranges; boundary=a; boundary=b",
            "multipart/byteranges; boundary=a b",
            "multipart/byteranges boundary=a",
            "multipart/byteranges; =a",
        ]
        for value in refused {
            #expect(MultipartByteRanges(contentType: value) == nil, "\(value)")
        }
    }

    // MARK: - Broken and hostile bodies

    @Test func aPartLongerOrShorterThanItsContentRange() throws {
        let part = "--B\r\nContent-Range: bytes 0-9/10\r\n\r\n"
        // One byte too many, then the delimiter.
        #expect(Self.error(Self.bytes(part + "0123456789X\r\n--B--\r\n"), contentType: "multipart/byteranges; boundary=B") == .partBodyMismatch)
        // One byte too few: the delimiter's CR is taken as data, and what follows is no delimiter.
        #expect(Self.error(Self.bytes(part + "012345678\r\n--B--\r\n"), contentType: "multipart/byteranges; boundary=B") == .partBodyMismatch)
        // Far too few: the next part's delimiter and headers are taken as data, and no delimiter follows.
        #expect(Self.error(Self.bytes(part + "01\r\n--B\r\nContent-Range: bytes 0-0/10\r\n\r\nx\r\n--B--\r\n"),
                           contentType: "multipart/byteranges; boundary=B") == .partBodyMismatch)
        #expect(Self.error(Self.bytes(part + "0\r\n--B--\r\n"), contentType: "multipart/byteranges; boundary=B") == .truncated)
        // A boundary with something after it.
        #expect(Self.error(Self.bytes(part + "0123456789\r\n--Bx\r\n"), contentType: "multipart/byteranges; boundary=B") == .partBodyMismatch)
        #expect(Self.error(Self.bytes(part + "0123456789\r\n--B-\r\n"), contentType: "multipart/byteranges; boundary=B") == .partBodyMismatch)
        #expect(Self.error(Self.bytes(part + "0123456789\r\n--B \r\r\n"), contentType: "multipart/byteranges; boundary=B") == .partBodyMismatch)
    }

    @Test func aPartWithoutOrWithTwoContentRanges() {
        #expect(Self.error(Self.bytes("--B\r\nContent-Type: application/octet-stream\r\n\r\nabc\r\n--B--"),
                           contentType: "multipart/byteranges; boundary=B") == .missingContentRange)
        #expect(Self.error(Self.bytes("--B\r\n\r\nabc\r\n--B--"), contentType: "multipart/byteranges; boundary=B") == .missingContentRange)
        // Not a Content-Range: a name with a space before its colon.
        #expect(Self.error(Self.bytes("--B\r\nContent-Range : bytes 0-0/1\r\n\r\na\r\n--B--"),
                           contentType: "multipart/byteranges; boundary=B") == .missingContentRange)
        #expect(Self.error(Self.bytes("--B\r\nContent-Range: bytes 0-0/1\r\nContent-Range: bytes 1-1/2\r\n\r\na\r\n--B--"),
                           contentType: "multipart/byteranges; boundary=B") == .repeatedContentRange)
    }

    @Test(arguments: [
        "bytes 18446744073709551615-18446744073709551616/1",
        "bytes 0-18446744073709551616/*",
        "bytes 99999999999999999999999999-1/2",
        "bytes 0-18446744073709551615/*",
        "bytes 0-18446744073709551615/18446744073709551615",
        "bytes 5-4/10",
        "bytes 0-10/10",
        "bytes */100",
        "bytes 0-1",
        "bytes 0-1/",
        "bytes 0-/10",
        "bytes -1/10",
        "bytes=0-1/2",
        "bytes0-1/2",
        "items 0-1/2",
        "bytes 0-1/2 x",
        "bytes 0-1/2/3",
        "bytes +0-1/2",
        "bytes 0x0-1/2",
        "",
    ])
    func aMalformedContentRange(_ value: String) {
        let body = Self.bytes("--B\r\nContent-Range: \(value)\r\n\r\nab\r\n--B--\r\n")
        #expect(Self.error(body, contentType: "multipart/byteranges; boundary=B") == .malformedContentRange(value))
    }

    @Test func aBodyCutShortIsTruncated() throws {
        let body = Self.nginxBody([0..<3, 10..<12], of: Array(Self.file.prefix(20)))
        let closed = body.count - 2 // the close delimiter's `--` read: complete, the final CRLF is epilogue
        for length in 0..<body.count {
            let prefix = Array(body.prefix(length))
            if length < closed {
                #expect(Self.error(prefix) == .truncated, "\(length) bytes")
            } else {
                #expect(throws: Never.self) { try Self.read(prefix) }
            }
        }
        #expect(Self.error([]) == .truncated)
    }

    @Test func aCloseDelimiterBeforeAnyPart() {
        #expect(Self.error(Self.bytes("preamble\r\n--B--\r\n"), contentType: "multipart/byteranges; boundary=B") == .noParts)
    }

    @Test func headersUpTo8KiB() throws {
        let start = "--B\r\n", range = "Content-Range: bytes 0-0/1\r\n", end = "\r\n"
        func body(headerSection: Int) -> [UInt8] {
            // utf8.count: a String counts CRLF as one Character.
            let filler = "X-Filler: " + String(repeating: "f", count: headerSection - range.utf8.count - end.utf8.count - "X-Filler: \r\n".utf8.count) + "\r\n"
            return Self.bytes(start + filler + range + end + "a\r\n--B--")
        }
        #expect(try Self.read(body(headerSection: 8192), contentType: "multipart/byteranges; boundary=B").count == 1)
        #expect(Self.error(body(headerSection: 8193), contentType: "multipart/byteranges; boundary=B") == .headersTooLong)
        #expect(Self.error(body(headerSection: 9 << 10), contentType: "multipart/byteranges; boundary=B") == .headersTooLong)
        // Many short lines count as much as one long one.
        let lines = String(repeating: "X: y\r\n", count: 9 << 10 / 6)
        #expect(Self.error(Self.bytes(start + lines + range + end + "a\r\n--B--"), contentType: "multipart/byteranges; boundary=B")
            == .headersTooLong)
    }

    struct Stop: Error, Equatable {}

    @Test func whatTheCallbacksThrowComesThrough() throws {
        let body = Self.nginxBody()
        var reader = try #require(MultipartByteRanges(contentType: Self.contentType))
        var parts = 0
        #expect(throws: Stop()) {
            try body.withUnsafeBytes { try reader.feed($0, part: { _, _ in parts += 1 }, data: { _, _ in throw Stop() }) }
        }
        #expect(parts == 1, "the first data call threw")

        var again = try #require(MultipartByteRanges(contentType: Self.contentType))
        #expect(throws: Stop()) {
            try body.withUnsafeBytes { try again.feed($0, part: { range, _ in if range == 4999..<5000 { throw Stop() } }, data: { _, _ in }) }
        }
    }

    @Test func errorsReadWell() {
        #expect("\(MultipartError.headersTooLong)" == "the server's multipart/byteranges answer has a part whose headers exceed 8 KiB; refused")
        #expect("\(MultipartError.malformedContentRange("bytes 5-4/10"))".contains("\"bytes 5-4/10\""))
        #expect("\(MultipartError.truncated)".hasPrefix("the server's multipart/byteranges answer ended before"))
    }
}
