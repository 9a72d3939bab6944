import Delta
import Verification

/// A bundle's block file as a delta reads it from a server: the header checked against the
/// image it claims (here, its own fields), then runs of offset entries checked and every block
/// they cover expanded into a block-sized buffer, as `CompressedBlocks` does.
enum BlockFileTarget {
    /// Blocks per run, and the most blocks looked at: enough to reach every code path.
    static let runLength: UInt64 = 8
    static let blocksLooked: UInt64 = 512

    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            var reader = ByteReader(input[...])
            guard reader.take(16) != nil, let blockCount = reader.integer(UInt64.self), let imageSize = reader.integer(UInt64.self),
                  let digest = reader.take(SHA256.digestLength) else {
                throw BlockFileHeader.Refusal.notABlockFile
            }
            guard let layout = ChunkLayout(imageSize: imageSize, chunkSize: ChunkLayout.defaultChunkSize) else {
                throw BlockFileHeader.Refusal.otherImage
            }
            let header = try BlockFileHeader.parse(input, layout: layout, imageSHA256: digest)
            precondition(header.blockCount == blockCount && header.blockCount == layout.blockCount)
            guard let decompressor = ZstdDecompressor() else { return }
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(ChunkLayout.blockSize), alignment: 16)
            defer { block.deallocate() }
            try input.withUnsafeBytes { bytes in
                var first: UInt64 = 0
                while first < min(header.blockCount, blocksLooked) {
                    let run = first..<min(header.blockCount, first + runLength)
                    let entries = header.offsetEntry(run.lowerBound).lowerBound..<header.offsetEntry(run.upperBound).upperBound
                    guard entries.upperBound <= UInt64(bytes.count) else { return }
                    let stored = try header.storedRange(
                        of: run, entries: UnsafeRawBufferPointer(rebasing: bytes[Int(entries.lowerBound)..<Int(entries.upperBound)]))
                    guard stored.upperBound <= UInt64(bytes.count) else { return }
                    var at = Int(stored.lowerBound)
                    for (index, number) in run.enumerated() {
                        let entryBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(entries.lowerBound)...])
                        let length = Int(BlockFileHeader.entry(entryBytes, index + 1) - BlockFileHeader.entry(entryBytes, index))
                        let raw = Int(header.rawLength(of: number))
                        precondition(length >= 1 && length <= raw, "storedRange let a stored length through that no block has")
                        if length < raw {
                            _ = decompressor.decompress(UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)]),
                                                        into: UnsafeMutableRawBufferPointer(rebasing: block[0..<raw]))
                        }
                        at += length
                    }
                    precondition(at == Int(stored.upperBound), "the stored lengths do not add up to the stored range")
                    first = run.upperBound
                }
            }
        }
    }
}
