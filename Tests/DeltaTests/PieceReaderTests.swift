@testable import Delta
import Foundation
import Testing
import TestSupport

/// The booted slot's reader: every byte in order, whatever the pieces, read ahead on a thread
/// of its own; a file that ends early is an error, not a short answer.
@Suite struct PieceReaderTests {
    static func write(_ bytes: [UInt8], in fixture: BundleFixture) throws -> String {
        let path = fixture.path("slot.raw")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [(0, 4096), (4096, 4096), (12_288, 8), (4096 * 3 + 1234, 1)])
    func handsOnEveryByteInOrder(start: Int, unit: Int) throws {
        let fixture = try BundleFixture()
        let bytes = (0..<(300_000 + start)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let path = try Self.write(bytes, in: fixture)
        let reader = try PieceReader(path: path, pieceSize: 64 << 10)
        var received: [UInt8] = []
        var pieces: [Int] = []
        let count = UInt64(bytes.count - start)
        try reader.forEachPiece(from: UInt64(start), count: count, unit: unit) { piece in
            received.append(contentsOf: piece)
            pieces.append(piece.count)
        }
        #expect(received == Array(bytes[start...]))
        #expect(pieces.dropLast().allSatisfy { $0 == (64 << 10) / unit * unit }, "\(pieces)")
    }

    @Test func aFileThatEndsEarlyIsTruncated() throws {
        let fixture = try BundleFixture()
        let path = try Self.write([UInt8](repeating: 7, count: 200_000), in: fixture)
        let reader = try PieceReader(path: path, pieceSize: 64 << 10)
        var received = 0
        #expect(throws: BlockKeys.Failure.truncated(path: path)) {
            try reader.forEachPiece(from: 4096, count: 400_000, unit: 4096) { received += $0.count }
        }
        #expect(received <= 200_000 - 4096)
    }

    @Test func aMissingFileCannotBeOpened() {
        #expect(throws: BlockKeys.Failure.self) { try PieceReader(path: "/nonexistent/slot", pieceSize: 4096) }
    }
}
