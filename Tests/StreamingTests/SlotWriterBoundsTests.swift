import Foundation
import Slots
import Streaming
import Testing
import TestSupport

/// Defence in depth: whatever offsets its caller passes, the slot writer writes inside the
/// slot's extent or not at all. Every byte outside slot B is compared with the disk as it was.
@Suite(.serialized)
struct SlotWriterBoundsTests {
    @Test func writesOutsideTheSlotAreRefusedAndTouchNothing() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            let extent = pair.b.extent
            #expect(extent.offset == 45056 * 512 && extent.length == UInt64(TestDisk.slotMiB) << 20)
            let before = try Data(contentsOf: URL(fileURLWithPath: testDisk.path))
            let writer = try SlotWriter(slot: pair.b, on: pair.disk, directIO: false)
            let chunk = [UInt8](repeating: 0xEE, count: 8192)

            let refused: [(String, UInt64)] = [
                ("past the end", extent.length - 4096),
                ("exactly at the end", extent.length),
                ("at a huge offset", 1 << 62),
                ("where offset + count overflows", UInt64.max - 100),
                ("at the largest offset", UInt64.max),
            ]
            for (what, offset) in refused {
                #expect(throws: StreamError.outOfSlot(offset: offset, count: chunk.count, slotSize: extent.length), "\(what)") {
                    try chunk.withUnsafeBytes { try writer.write($0, at: offset) }
                }
            }
            // The first and the last bytes of the slot are writable.
            try chunk.withUnsafeBytes { try writer.write($0, at: 0) }
            try chunk.withUnsafeBytes { try writer.write($0, at: extent.length - UInt64(chunk.count)) }
            try writer.synchronize()

            let after = try Data(contentsOf: URL(fileURLWithPath: testDisk.path))
            let start = Int(extent.offset), end = Int(extent.end)
            #expect(after.count == before.count)
            #expect(after[..<start] == before[..<start], "nothing before the slot changed")
            #expect(after[end...] == before[end...], "nothing after the slot changed")
            #expect(after[start..<start + chunk.count].allSatisfy { $0 == 0xEE })
            #expect(after[end - chunk.count..<end].allSatisfy { $0 == 0xEE })
        }
    }

    /// The extent was valid when probed; the disk then shrank below it. Opening is refused.
    @Test func aDiskThatShrankBelowTheSlotIsRefusedAtOpen() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            try Shell.run(["truncate", "-s", "\(pair.b.extent.end - 1)", testDisk.path])
            #expect {
                try SlotWriter(slot: pair.b, on: pair.disk, directIO: false)
            } throws: { error in
                guard case let StreamError.slotOutsideDisk(path, extent, size) = error else { return false }
                return path == testDisk.path && extent == pair.b.extent && size == pair.b.extent.end - 1
            }
        }
    }
}
