import Verification

/// Where each block of a new image comes from in a delta install: a block of the booted slot
/// whose lookup key matches, or the server. Fed the new image's keys in order (as its chunk
/// table arrives); holds 4 bytes per block, and the fetched blocks as coalesced ranges. Pure:
/// the installer follows it, `updatectl image diff` reports it, so both say the same.
public struct DeltaPlan: Sendable {
    /// Blocks a plan holds at most, as `BlockIndex` does: a larger image installs in full.
    public static let maximumBlocks = BlockIndex.maximumBlocks

    public let layout: ChunkLayout
    /// Per new block: the booted slot's block number + 1, or 0 when it is fetched.
    private var sources: [UInt32]
    /// Runs of adjacent fetched blocks, as image byte ranges, in image order.
    public private(set) var fetchRanges: [Range<UInt64>] = []
    public private(set) var blocksFound: UInt64 = 0
    public private(set) var bytesFetched: UInt64 = 0

    /// Nil when the image has more blocks than a plan holds.
    public init?(layout: ChunkLayout) {
        guard layout.blockCount <= UInt64(DeltaPlan.maximumBlocks) else { return nil }
        self.layout = layout
        sources = []
        sources.reserveCapacity(Int(layout.blockCount))
    }

    public var blocks: UInt64 { UInt64(sources.count) }
    public var blocksFetched: UInt64 { blocks - blocksFound }
    public var isComplete: Bool { blocks == layout.blockCount }

    /// The next block of the new image, by key, looked up in `index` (the booted slot's).
    /// Keys past the image's last block are ignored.
    public mutating func add(key: UInt64, index: BlockIndex) {
        guard sources.count < Int(layout.blockCount) else { return }
        let start = UInt64(sources.count) * ChunkLayout.blockSize
        let end = min(layout.imageSize, start + ChunkLayout.blockSize)
        if let old = index.block(for: key) {
            sources.append(UInt32(old + 1))
            blocksFound += 1
            return
        }
        sources.append(0)
        bytesFetched += end - start
        if let last = fetchRanges.last, last.upperBound == start {
            fetchRanges[fetchRanges.count - 1] = last.lowerBound..<end
        } else {
            fetchRanges.append(start..<end)
        }
    }

    /// Whether copying saves enough to be worth many ranged requests instead of one streamed
    /// download (which also lets an update server's whole-file digest be checked): at least an
    /// eighth of the image's blocks are found.
    public var isWorthwhile: Bool { isComplete && blocksFound >= (blocks + 7) / 8 }

    /// The booted slot's block that holds new block `block`, or nil when it is fetched.
    public func oldBlock(for block: UInt64) -> UInt64? {
        guard block < UInt64(sources.count), sources[Int(block)] != 0 else { return nil }
        return UInt64(sources[Int(block)] - 1)
    }

    /// The chunk table, read first, and the fetched blocks.
    public var downloadBytes: UInt64 { layout.tableLength + bytesFetched }

    /// `downloadBytes` as a share of the image, in percent.
    public var percentOfImage: Double { Double(downloadBytes) * 100 / Double(layout.imageSize) }
}
