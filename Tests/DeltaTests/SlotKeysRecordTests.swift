import Delta
import Foundation
import Testing
import TestSupport
import Verification

/// The slot keys record's header, and a record written by the recorder and read back: a header
/// must account for every byte of its file, and anything it cannot vouch for is refused with a
/// reason, never trusted and never a trap.
@Suite struct SlotKeysRecordTests {
    static let digest = [UInt8](repeating: 0xAB, count: 32)

    @Test func aHeaderReadsBackAsWritten() throws {
        let header = SlotKeysHeader(imageSize: 3 * 4096 + 10, imageSHA256: Self.digest)
        let bytes = header.serialized()
        #expect(bytes.count == SlotKeysHeader.size)
        #expect(header.blockCount == 4 && header.wholeBlocks == 3 && header.fileLength == 64 + 32)
        #expect(try SlotKeysHeader.parse(bytes[...], fileLength: 96) == header)
    }

    @Test func refusalsSayWhy() {
        let good = SlotKeysHeader(imageSize: 8192, imageSHA256: Self.digest).serialized()
        func refusal(_ bytes: [UInt8], fileLength: UInt64 = 80) -> SlotKeysRefusal? {
            do {
                _ = try SlotKeysHeader.parse(bytes[...], fileLength: fileLength)
                return nil
            } catch {
                return error
            }
        }
        var version = good
        version[8] = 7
        #expect(refusal(version) == .unsupportedVersion(7))
        var magic = good
        magic[0] = 0
        #expect(refusal(magic) == .notARecord)
        #expect(refusal(Array(good.prefix(40))) == .notARecord)
        #expect(refusal(good, fileLength: 81) == .inconsistent, "a byte more than the keys")
        #expect(refusal(good, fileLength: 79) == .inconsistent, "a key cut short")
        var blockCount = good
        blockCount[16] = 3
        #expect(refusal(blockCount) == .inconsistent, "a block count the size does not give")
        var shortHeader = good
        shortHeader[12] = 63
        #expect(refusal(shortHeader, fileLength: 79) == .inconsistent)
        var hugeHeader = good
        hugeHeader[12] = 0x01
        hugeHeader[13] = 0x10
        #expect(refusal(hugeHeader, fileLength: 4097 + 16) == .inconsistent, "a header longer than 4096 bytes")
        var emptyImage = good
        for index in 16..<32 { emptyImage[index] = 0 }
        #expect(refusal(emptyImage, fileLength: 64) == .inconsistent)
    }

    /// A later writer may add header fields: the keys start where the header says.
    @Test func aLongerHeaderIsSkipped() throws {
        var bytes = SlotKeysHeader(imageSize: 4096, imageSHA256: Self.digest).serialized()
        bytes[12] = 128
        let header = try SlotKeysHeader.parse(bytes[...], fileLength: 128 + 8)
        #expect(header.keysOffset == 128 && header.blockCount == 1)
    }

    /// The largest sizes a header can claim are arithmetic, not traps.
    @Test func extremeSizesAreRefusedWithoutOverflow() {
        var bytes = SlotKeysHeader(imageSize: UInt64.max, imageSHA256: Self.digest).serialized()
        #expect(throws: SlotKeysRefusal.inconsistent) { try SlotKeysHeader.parse(bytes[...], fileLength: UInt64.max) }
        bytes[12] = 0xFF
        bytes[13] = 0xFF
        bytes[14] = 0xFF
        bytes[15] = 0xFF
        #expect(throws: SlotKeysRefusal.inconsistent) { try SlotKeysHeader.parse(bytes[...], fileLength: 0) }
    }

    @Test func recordedKeysReadBackInOrderAndASampleIsChecked() throws {
        let fixture = try BundleFixture()
        let path = fixture.path("slot.keys")
        let keys: [UInt64] = (0..<5000).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        let imageSize: UInt64 = 4999 * 4096 + 1
        let recorder = try SlotKeysRecorder(path: path, imageSize: imageSize, imageSHA256: Self.digest)
        for key in keys { recorder.append(key) }
        try recorder.finishKeys()
        #expect(!FileManager.default.fileExists(atPath: path), "no name before the commit")
        try recorder.commit()
        let record = try SlotKeysRecord.open(path)
        #expect(record.header.wholeBlocks == 4999)
        var read: [UInt64] = []
        try record.forEachKey(blocks: 10_000) { key, length in
            read.append(key)
            #expect(length == 4096)
        }
        #expect(read == Array(keys.prefix(4999)), "whole blocks only")
        #expect(try record.firstMismatch(in: [(0, keys[0]), (4000, keys[4000]), (4999, 1)]) == nil,
                "the partial last block is not compared")
        #expect(try record.firstMismatch(in: [(0, keys[0]), (17, keys[18]), (20, 0)]) == 17)
    }

    @Test func aRecorderDroppedWithoutCommitLeavesNothing() throws {
        let fixture = try BundleFixture()
        let path = fixture.path("slot.keys")
        do {
            let recorder = try SlotKeysRecorder(path: path, imageSize: 4096, imageSHA256: Self.digest)
            recorder.append(1)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.path(""))
        #expect(!names.contains { $0.hasPrefix("slot.keys") }, "\(names)")
    }

    @Test func aMissingRecordIsAbsent() throws {
        let fixture = try BundleFixture()
        #expect(throws: SlotKeysRefusal.absent) { try SlotKeysRecord.open(fixture.path("none.keys")) }
    }
}
