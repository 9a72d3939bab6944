/// What a host holding one image would download to install another, block by block, as a
/// format 3 delta fetches it: every 4096-byte block of the new image whose lookup key is found
/// in the old one is read from there (and proven with its chunk); every other block is fetched
/// once, adjacent ones in one range. Pure: fed the new image's keys in order.
public struct DeltaEstimate: Equatable, Sendable {
    public let imageSize: UInt64
    /// The chunk table, which a delta reads before anything else.
    public let tableBytes: UInt64
    public private(set) var blocks: UInt64 = 0
    /// Blocks whose key the old image has.
    public private(set) var blocksFound: UInt64 = 0
    /// Blocks the old image lacks but an earlier block of the new image has: fetched once.
    public private(set) var blocksRepeated: UInt64 = 0
    public private(set) var blocksFetched: UInt64 = 0
    public private(set) var bytesFetched: UInt64 = 0
    /// Runs of adjacent fetched blocks: the ranges coalesced requests ask for.
    public private(set) var ranges: UInt64 = 0

    private var fetchedKeys: Set<UInt64> = []
    private var previousFetched = false

    public init(imageSize: UInt64, tableBytes: UInt64) {
        self.imageSize = imageSize
        self.tableBytes = tableBytes
    }

    /// The next block of the new image: its key, its length (4096, or less for the last one),
    /// and whether the old image has a block with that key.
    public mutating func add(key: UInt64, length: UInt64, inOld: Bool) {
        blocks += 1
        var fetched = false
        if inOld {
            blocksFound += 1
        } else if fetchedKeys.contains(key) {
            blocksRepeated += 1
        } else {
            fetchedKeys.insert(key)
            blocksFetched += 1
            bytesFetched += length
            fetched = true
        }
        if fetched && !previousFetched { ranges += 1 }
        previousFetched = fetched
    }

    /// The chunk table and the fetched blocks.
    public var downloadBytes: UInt64 { tableBytes + bytesFetched }

    /// `downloadBytes` as a share of the image, in percent.
    public var percentOfImage: Double {
        imageSize == 0 ? 0 : Double(downloadBytes) * 100 / Double(imageSize)
    }
}
