import Platform
import Verification

/// Where each block of a new image comes from in a delta install: a block of the booted slot
/// whose lookup key matches, or the server. Fed the new image's blocks in order, each with its
/// source (`add(oldBlock:)`), or its key and the old image's index (`add(key:index:)`); holds runs (blocks that follow each other in the booted slot, or are all
/// fetched: a point release has a few thousand, not a block each), and the fetched blocks as
/// coalesced ranges. Pure: the installer follows it, `updatectl image diff` reports it, so both
/// say the same.
public struct DeltaPlan: Sendable {
    /// Blocks a plan holds at most, as `BlockIndex` does: a larger image installs in full.
    public static let maximumBlocks = BlockIndex.maximumBlocks

    public let layout: ChunkLayout
    /// Where each run starts in the new image (block number), and its first block's source:
    /// the booted slot's block number + 1, or 0 when fetched. A run lasts to the next one.
    private var runStarts: [UInt32] = []
    private var runSources: [UInt32] = []
    public private(set) var blocks: UInt64 = 0
    /// Runs of adjacent fetched blocks, as image byte ranges, in image order.
    public private(set) var fetchRanges: [Range<UInt64>] = []
    public private(set) var blocksFound: UInt64 = 0
    public private(set) var bytesFetched: UInt64 = 0

    /// Nil when the image has more blocks than a plan holds.
    public init?(layout: ChunkLayout) {
        guard layout.blockCount <= UInt64(DeltaPlan.maximumBlocks) else { return nil }
        self.layout = layout
    }
    public var blocksFetched: UInt64 { blocks - blocksFound }
    public var isComplete: Bool { blocks == layout.blockCount }

    /// The next block of the new image, by key, looked up in `index` (the booted slot's).
    /// Keys past the image's last block are ignored.
    public mutating func add(key: UInt64, index: BlockIndex) {
        add(oldBlock: index.block(for: key))
    }

    /// The next block of the new image: the booted slot's block that holds it, or nil when it
    /// is fetched. Blocks past the image's last are ignored.
    public mutating func add(oldBlock: UInt64?) {
        guard blocks < layout.blockCount else { return }
        let block = blocks
        blocks += 1
        let start = block * ChunkLayout.blockSize
        let end = min(layout.imageSize, start + ChunkLayout.blockSize)
        let source = oldBlock.map { UInt32($0 + 1) } ?? 0
        let continues = runStarts.last.map { lastStart in
            let lastSource = runSources[runSources.count - 1]
            return lastSource == 0 ? source == 0 : source != 0 && UInt64(source) == UInt64(lastSource) + block - UInt64(lastStart)
        } ?? false
        if !continues {
            runStarts.append(UInt32(block))
            runSources.append(source)
        }
        if source != 0 {
            blocksFound += 1
            return
        }
        bytesFetched += end - start
        if let last = fetchRanges.last, last.upperBound == start {
            fetchRanges[fetchRanges.count - 1] = last.lowerBound..<end
        } else {
            fetchRanges.append(start..<end)
        }
    }

    /// Gives back the spare capacity the plan's arrays grew with while it was fed: an install
    /// holds its plan to the end.
    public mutating func trim() {
        runStarts = runStarts.trimmed()
        runSources = runSources.trimmed()
        fetchRanges = fetchRanges.trimmed()
    }

    /// Whether copying saves enough to be worth many ranged requests instead of one streamed
    /// download (which also lets an update server's whole-file digest be checked): at least an
    /// eighth of the image's blocks are found.
    public var isWorthwhile: Bool { isComplete && blocksFound >= (blocks + 7) / 8 }

    /// The booted slot's block that holds new block `block`, or nil when it is fetched.
    public func oldBlock(for block: UInt64) -> UInt64? {
        guard block < blocks else { return nil }
        // The last run that starts at or before `block`.
        let run = runStarts.partitioningIndex { UInt64($0) > block } - 1
        guard run >= 0, runSources[run] != 0 else { return nil }
        return UInt64(runSources[run]) - 1 + block - UInt64(runStarts[run])
    }

    /// The chunk table, read first, and the fetched blocks.
    public var downloadBytes: UInt64 { layout.tableLength + bytesFetched }

    /// `downloadBytes` as a share of the image, in percent.
    public var percentOfImage: Double { Double(downloadBytes) * 100 / Double(layout.imageSize) }
}

private extension Array {
    /// A copy with no spare capacity.
    func trimmed() -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: self)
        }
    }
}
