import Delta
import Platform
import Verification

/// A bundle's block file (`Delta.BlockFileHeader`), published beside it: the blocks a delta
/// fetches, downloaded compressed. Used when it is there and describes the bundle's image;
/// anything wrong with it (absent, another image, a lying offset, a frame that does not expand
/// to its block) ends its use, and the blocks come raw from the bundle instead. What it gives is
/// no more trusted than the bundle's bytes: it lands in chunks proven before they are written.
final class CompressedBlocks {
    /// The block file cannot serve (any more); `reason` says why, for the install's outcome.
    struct Unusable: Error {
        let reason: String
    }

    let file: BundleSource
    private let header: BlockFileHeader
    private let decompressor: ZstdDecompressor
    /// The offset entries of one batch, and one compressed block being expanded: allocated once.
    /// A batch's stored blocks need no buffer of their own (see `fetch`).
    private let entries: AlignedBuffer
    private let frame: AlignedBuffer
    private(set) var bytesDownloaded: UInt64 = 0

    /// Reads and checks the header of `file`, the block file of an image of `layout` whose
    /// SHA-256 is `imageSHA256`.
    init(file: BundleSource, layout: ChunkLayout, imageSHA256: [UInt8]) throws(Unusable) {
        self.file = file
        var bytes: [UInt8] = []
        do {
            try file.readRegion(0..<UInt64(BlockFileHeader.size)) { bytes.append(contentsOf: $0) }
            header = try BlockFileHeader.parse(bytes, layout: layout, imageSHA256: imageSHA256)
        } catch {
            throw Unusable(reason: "\(file): \(error)")
        }
        guard let decompressor = ZstdDecompressor() else { throw Unusable(reason: "zstd could not start") }
        self.decompressor = decompressor
        let blocksPerBatch = FetchedBlocks.stagingSize / Int(ChunkLayout.blockSize) + 2 * FetchedBlocks.rangesPerRequest
        entries = AlignedBuffer(capacity: (blocksPerBatch * Int(BlockFileHeader.offsetLength) + 4095) / 4096 * 4096)
        frame = AlignedBuffer(capacity: Int(ChunkLayout.blockSize))
        bytesDownloaded = UInt64(BlockFileHeader.size)
    }

    /// Fills `destination` with the image bytes of `ranges` (ascending, disjoint, each starting
    /// on a block), one after another, from the block file: two requests, one for the ranges'
    /// offset entries, one for their stored blocks.
    ///
    /// The stored blocks are read into the tail of `destination` and expanded front to back
    /// into its head. No block is stored longer than it expands (`storedRange` checks), so the
    /// bytes expanded so far end at or before the stored bytes not yet read: expanding in place
    /// overwrites only blocks already expanded, and a batch costs no second megabyte.
    func fetch(_ ranges: [Range<UInt64>], into destination: UnsafeMutableRawBufferPointer) throws {
        let blockSize = ChunkLayout.blockSize
        let blockRuns = ranges.map { ($0.lowerBound / blockSize)..<(($0.upperBound + blockSize - 1) / blockSize) }
        // Entries first..<end+1 of each run: where each block starts, and where the last ends.
        let entryRanges = blockRuns.map { header.offsetEntry($0.lowerBound).lowerBound..<header.offsetEntry($0.upperBound).upperBound }
        let entryBytes = entryRanges.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) }
        guard entryBytes <= entries.bytes.count else { throw Unusable(reason: "a batch needs more offsets than fit") }
        try read(entryRanges, into: UnsafeMutableRawBufferPointer(rebasing: entries.bytes[0..<entryBytes]))

        // Every run's offsets are checked before any data is asked for (`storedRange`).
        var dataRanges: [Range<UInt64>] = []
        dataRanges.reserveCapacity(blockRuns.count)
        var entry = 0, storedTotal = 0
        for run in blockRuns {
            let count = (run.count + 1) * Int(BlockFileHeader.offsetLength)
            do {
                let stored = try header.storedRange(of: run, entries: UnsafeRawBufferPointer(rebasing: entries.bytes[entry..<(entry + count)]))
                dataRanges.append(stored)
                storedTotal += Int(stored.upperBound - stored.lowerBound)
            } catch {
                throw Unusable(reason: "\(file): \(error)")
            }
            entry += count
        }
        guard storedTotal <= destination.count else { throw Unusable(reason: "a batch's stored blocks outgrow their buffer") }
        let packedStart = destination.count - storedTotal
        try read(dataRanges, into: UnsafeMutableRawBufferPointer(rebasing: destination[packedStart...]))

        var at = 0, stored = packedStart
        entry = 0
        for run in blockRuns {
            let entries = UnsafeRawBufferPointer(rebasing: entries.bytes[entry...])
            for (index, block) in run.enumerated() {
                let length = Int(BlockFileHeader.entry(entries, index + 1) - BlockFileHeader.entry(entries, index))
                let raw = Int(header.rawLength(of: block))
                guard at + raw <= destination.count else { throw Unusable(reason: "\(file): the batch expands past its ranges") }
                let target = UnsafeMutableRawBufferPointer(rebasing: destination[at..<(at + raw)])
                // The block's own stored bytes may lie under its expanded ones: moved, or taken
                // out first.
                if length == raw {
                    target.baseAddress!.copyMemory(from: destination.baseAddress! + stored, byteCount: raw)
                } else {
                    let source = UnsafeMutableRawBufferPointer(rebasing: frame.bytes[0..<length])
                    source.copyMemory(from: UnsafeRawBufferPointer(rebasing: destination[stored..<(stored + length)]))
                    guard decompressor.decompress(UnsafeRawBufferPointer(source), into: target) else {
                        throw Unusable(reason: "\(file): block \(block) does not expand to its \(raw) bytes")
                    }
                }
                stored += length
                at += raw
            }
            entry += (run.count + 1) * Int(BlockFileHeader.offsetLength)
        }
        bytesDownloaded += UInt64(entryBytes + storedTotal)
    }

    /// The file's bytes of `ranges`; any failure but a cancel makes the file unusable.
    private func read(_ ranges: [Range<UInt64>], into destination: UnsafeMutableRawBufferPointer) throws {
        do {
            try file.fetchRanges(ranges, into: destination)
        } catch StreamError.cancelled {
            throw StreamError.cancelled
        } catch {
            throw Unusable(reason: "\(file): \(error)")
        }
    }
}
