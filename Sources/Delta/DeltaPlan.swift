import Platform
import Verification

/// Where a block of a new image comes from in a delta install.
public enum BlockSource: Equatable, Sendable {
    /// Downloaded.
    case fetched
    /// All zeros (its key is the zero block's): written from nothing. A filesystem image's free
    /// space is mostly these, and copying them from one zero block of the booted slot would cost
    /// a read, and a run, each.
    case zeros
    /// The booted slot's block with this number, whose key matches.
    case booted(UInt64)

    /// The source of the block `distance` further on, were it in the same run: the booted
    /// block as far further on, else the same.
    public func advanced(by distance: UInt64) -> BlockSource {
        if case let .booted(old) = self { .booted(old + distance) } else { self }
    }

    /// In 4 bytes, as plans keep one per run and planners one per block: 0 fetched, a booted
    /// block + 1 (below `DeltaPlan.maximumBlocks`), `UInt32.max` zeros.
    public var packed: UInt32 {
        switch self {
        case .fetched: 0
        case .zeros: UInt32.max
        case let .booted(old): UInt32(old + 1)
        }
    }

    public init(packed: UInt32) {
        self = switch packed {
        case 0: .fetched
        case UInt32.max: .zeros
        default: .booted(UInt64(packed) - 1)
        }
    }
}

/// Where each block of a new image comes from in a delta install (`BlockSource`). Fed the new
/// image's blocks in order, each with its source (`add(_:)`), or its key and the old image's
/// index (`add(key:index:)`); holds runs (blocks that follow each other in the booted slot, or
/// are all fetched, or all zeros: a point release has thousands, not a block each), and the
/// fetched blocks as coalesced ranges. Pure: the installer follows it, `updatectl image diff`
/// reports it, so both say the same.
public struct DeltaPlan: Sendable {
    /// Blocks a plan holds at most, as `BlockIndex` does: a larger image installs in full.
    public static let maximumBlocks = BlockIndex.maximumBlocks

    public let layout: ChunkLayout
    /// Where each run starts in the new image (block number), and its first block's source,
    /// packed (`BlockSource.packed`). A run lasts to the next one.
    private var runStarts: [UInt32] = []
    private var runSources: [UInt32] = []
    public private(set) var blocks: UInt64 = 0
    /// Runs of adjacent fetched blocks, as image byte ranges, in image order.
    public private(set) var fetchRanges: [Range<UInt64>] = []
    /// Blocks copied from the booted slot, and blocks of zeros.
    public private(set) var blocksFound: UInt64 = 0
    public private(set) var blocksOfZeros: UInt64 = 0
    public private(set) var bytesFetched: UInt64 = 0

    /// Nil when the image has more blocks than a plan holds.
    public init?(layout: ChunkLayout) {
        guard layout.blockCount <= UInt64(DeltaPlan.maximumBlocks) else { return nil }
        self.layout = layout
    }
    public var blocksFetched: UInt64 { blocks - blocksFound - blocksOfZeros }
    public var isComplete: Bool { blocks == layout.blockCount }

    /// The next block of the new image, by key: zeros, or looked up in `index` (the booted
    /// slot's). Keys past the image's last block are ignored.
    public mutating func add(key: UInt64, index: BlockIndex) {
        add(key == BlockKeys.zeroBlockKey ? .zeros : index.block(for: key).map(BlockSource.booted) ?? .fetched)
    }

    /// The next block of the new image and where it comes from; a booted block must be below
    /// `maximumBlocks`. Blocks past the image's last are ignored.
    public mutating func add(_ blockSource: BlockSource) {
        guard blocks < layout.blockCount else { return }
        let block = blocks
        blocks += 1
        let start = block * ChunkLayout.blockSize
        let end = min(layout.imageSize, start + ChunkLayout.blockSize)
        let continues = runStarts.last.map { lastStart in
            BlockSource(packed: runSources[runSources.count - 1]).advanced(by: block - UInt64(lastStart)) == blockSource
        } ?? false
        if !continues {
            runStarts.append(UInt32(block))
            runSources.append(blockSource.packed)
        }
        switch blockSource {
        case .booted:
            blocksFound += 1
            return
        case .zeros:
            blocksOfZeros += 1
            return
        case .fetched:
            break
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

    /// Whether what is not downloaded is worth many ranged requests instead of one streamed
    /// download (which also lets an update server's whole-file digest be checked): at least an
    /// eighth of the image's blocks are found or zeros.
    public var isWorthwhile: Bool { isComplete && blocksFound + blocksOfZeros >= (blocks + 7) / 8 }

    /// Where new block `block` comes from; a block past the plan is fetched.
    public func source(for block: UInt64) -> BlockSource {
        guard block < blocks else { return .fetched }
        // The last run that starts at or before `block`.
        let run = runStarts.partitioningIndex { UInt64($0) > block } - 1
        guard run >= 0 else { return .fetched }
        return BlockSource(packed: runSources[run]).advanced(by: block - UInt64(runStarts[run]))
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
