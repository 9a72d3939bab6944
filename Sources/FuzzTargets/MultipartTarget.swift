import HTTP

/// A multipart/byteranges body as a multi-range download reads it, with the Content-Type value
/// it came with: the input's first line is that value, the rest the body. The body is fed three
/// times: whole, a byte at a time, and in uneven pieces whose sizes come from the input.
enum MultipartTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let lineEnd = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.endIndex
            var contentType = input[..<lineEnd]
            if contentType.last == UInt8(ascii: "\r") { contentType = contentType.dropLast() }
            let body = lineEnd < input.endIndex ? Array(input[(lineEnd + 1)...]) : []
            guard let reader = MultipartByteRanges(contentType: String(decoding: contentType, as: UTF8.self)) else {
                throw MultipartTargetError.unusableContentType
            }
            // Deterministic: the same input is always cut the same way, so a finding replays.
            var random = Pieces(seed: input.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })
            let uneven = read(body, with: reader) { random.next() }
            // The fuzzer's oracle besides the invariants `read` checks: how the body arrives in
            // pieces changes nothing, neither the parts and their bytes nor the error.
            let whole = read(body, with: reader) { body.count }
            let bytewise = read(body, with: reader) { 1 }
            precondition(whole == uneven, "fed whole, the body reads differently than in pieces")
            precondition(bytewise == uneven, "fed a byte at a time, the body reads differently than in pieces")
            if let failure = uneven.failure { throw failure }
        }
    }

    /// What reading a body gave: each part's range, total, and length and hash of its bytes,
    /// and the error that stopped it, if any.
    struct Reading: Equatable {
        struct Part: Equatable {
            var range: Range<UInt64>
            var total: UInt64?
            var count: UInt64 = 0
            /// FNV-1a over the part's bytes, which comes out the same however they were split.
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325

            // Not `range.count`, an Int that traps for a range beyond Int.max bytes.
            var isComplete: Bool { count == range.upperBound - range.lowerBound }
        }

        var parts: [Part] = []
        var failure: MultipartError?
    }

    /// Feeds `body` to a copy of `reader` in pieces of `nextSize()` bytes (at least 1) and
    /// finishes; checks the invariants of every call back on the way.
    private static func read(_ body: [UInt8], with reader: MultipartByteRanges, nextSize: () -> Int) -> Reading {
        var reader = reader
        var reading = Reading()
        var position = 0
        do {
            while position < body.count {
                let end = position + min(body.count - position, max(1, nextSize()))
                try body[position..<end].withUnsafeBytes { piece in
                    try reader.feed(piece, part: { range, total in
                        precondition(!range.isEmpty, "a part with an empty range \(range)")
                        precondition(total.map { range.upperBound <= $0 } ?? true, "a part's range \(range) beyond its total \(total ?? 0)")
                        precondition(reading.parts.last?.isComplete ?? true, "a part began before the previous one's bytes were all there")
                        reading.parts.append(Reading.Part(range: range, total: total))
                    }, data: { offset, bytes in
                        guard let last = reading.parts.indices.last else { preconditionFailure("data before any part") }
                        let part = reading.parts[last]
                        precondition(!bytes.isEmpty, "an empty data call")
                        precondition(part.range.contains(offset) && UInt64(bytes.count) <= part.range.upperBound - offset,
                                     "\(bytes.count) bytes at \(offset) are not inside the part's range \(part.range)")
                        precondition(offset == part.range.lowerBound + part.count, "data at \(offset) does not follow on from the part's last byte")
                        if let start = bytes.baseAddress, let pieceStart = piece.baseAddress {
                            precondition(start >= pieceStart && start + bytes.count <= pieceStart + piece.count, "data is not a slice of the input")
                        }
                        reading.parts[last].count += UInt64(bytes.count)
                        reading.parts[last].hash = bytes.reduce(part.hash) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
                    })
                }
                position = end
            }
            try reader.finish()
            precondition(reading.parts.last?.isComplete == true, "a body that finished has an incomplete or no part")
        } catch let error as MultipartError {
            reading.failure = error
        } catch {
            preconditionFailure("the reader threw what it was not given: \(error)")
        }
        return reading
    }

    /// Piece sizes from a seed: mostly short, sometimes up to 4 KiB, so that delimiters and
    /// header lines are cut everywhere and bodies also arrive in large slices.
    private struct Pieces {
        var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> Int {
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return 1 + Int(z & 3 == 0 ? (z >> 2) % 4096 : (z >> 2) % 17)
        }
    }
}

enum MultipartTargetError: Error, CustomStringConvertible {
    case unusableContentType

    var description: String { "the first line is not a multipart/byteranges Content-Type with a valid boundary" }
}
