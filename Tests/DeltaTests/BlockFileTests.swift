import Delta
import Foundation
import Testing
import TestSupport
import Verification

/// The block file: its header, its offsets, and every block as `zstd -d` (the reference
/// decoder) expands it, equal to the image's block.
@Suite struct BlockFileTests {
    @Test func everyBlockExpandsToTheImagesByTheReferenceDecoder() throws {
        let fixture = try BundleFixture()
        // Text compresses, noise does not: both kinds of block, and a short last one.
        let text = fixture.path("text.raw")
        try Data(repeating: UInt8(ascii: "t"), count: 3 * 4096).write(to: URL(fileURLWithPath: text))
        let noise = try fixture.randomImage("noise.raw", size: 2 * 4096 + 700)
        let image = fixture.path("image.raw")
        try Shell.run(["sh", "-c", "cat '\(text)' '\(noise)' > '\(image)'"])
        let bundle = try fixture.bundle("v2.tandem", image: image)
        let preamble = try BundleFile.readPreamble(path: bundle)
        let layout = try #require(preamble.manifest.chunkLayout)
        let output = bundle + BlockFileHeader.fileSuffix
        let length = try BlockFileWriter.write(image: bundle, imageOffset: preamble.header.imageOffset, layout: layout,
                                               imageSHA256: preamble.manifest.imageSHA256, to: output)
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(UInt64(file.count) == length)
        let header = try BlockFileHeader.parse(Array(file[0..<64]), layout: layout, imageSHA256: preamble.manifest.imageSHA256)
        #expect(header.blockCount == 6 && header.imageSize == UInt64(3 * 4096 + 2 * 4096 + 700))
        #expect(throws: BlockFileHeader.Refusal.otherImage) {
            try BlockFileHeader.parse(Array(file[0..<64]), layout: layout, imageSHA256: [UInt8](repeating: 0, count: 32))
        }

        let imageBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        func entry(_ block: Int) -> Int {
            let start = 64 + block * 8
            return (0..<8).reduce(0) { $0 | Int(file[start + $1]) << (8 * $1) }
        }
        let dataStart = Int(header.dataOffset)
        for block in 0..<6 {
            let stored = Array(file[(dataStart + entry(block))..<(dataStart + entry(block + 1))])
            let raw = Array(imageBytes[(block * 4096)..<min(imageBytes.count, (block + 1) * 4096)])
            if block < 3 {
                #expect(stored.count < 100, "a block of one letter compresses")
                let frame = fixture.path("block-\(block).zst")
                try Data(stored).write(to: URL(fileURLWithPath: frame))
                let expanded = fixture.path("block-\(block).raw")
                try Shell.run(["zstd", "-q", "-d", "-f", frame, "-o", expanded])
                #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: expanded))) == raw, "block \(block)")
            } else {
                #expect(stored == raw, "noise is stored raw (block \(block))")
            }
        }
        #expect(dataStart + entry(6) == file.count)
    }

    @Test func aHeaderOfAnotherKindOrVersionIsRefused() throws {
        let layout = try #require(ChunkLayout(imageSize: 4096, chunkSize: 1 << 20))
        let digest = [UInt8](repeating: 7, count: 32)
        var bytes = BlockFileHeader(blockCount: 1, imageSize: 4096, imageSHA256: digest).serialized()
        #expect(try BlockFileHeader.parse(bytes, layout: layout, imageSHA256: digest).blockCount == 1)
        #expect(throws: BlockFileHeader.Refusal.notABlockFile) { try BlockFileHeader.parse(Array(bytes[0..<40]), layout: layout, imageSHA256: digest) }
        bytes[8] = 2
        #expect(throws: BlockFileHeader.Refusal.unsupportedVersion(2)) { try BlockFileHeader.parse(bytes, layout: layout, imageSHA256: digest) }
        bytes[0] = 0
        #expect(throws: BlockFileHeader.Refusal.notABlockFile) { try BlockFileHeader.parse(bytes, layout: layout, imageSHA256: digest) }
    }
}
