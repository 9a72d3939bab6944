import Platform
import Verification

/// Where each 4096-byte block of an image is, by lookup key: the booted slot's blocks, which a
/// delta copies instead of downloading. One sorted array of 8 bytes per block: the key's top 40
/// bits above the block's number (24 bits). A shortened key only finds candidates, as a whole
/// one would: every block copied is proven with its chunk's SHA-256 before it is written.
public struct BlockIndex: Sendable {
    /// Blocks an index holds at most: 4 GiB of image in 8 MiB of memory. The blocks of a
    /// larger image past that are not indexed (and so fetched), which keeps an install's memory
    /// bounded whatever the image's size.
    public static let maximumBlocks = 1 << 20
    static let blockBits = 24
    static let blockMask: UInt64 = (1 << blockBits) - 1

    private var entries: [UInt64]

    /// An empty index: nothing is found, everything is fetched.
    public init() {
        entries = []
    }

    /// Collects keys in image order, block 0 first.
    public struct Builder {
        private var entries: [UInt64] = []

        public init(expectedBlocks: UInt64 = 0) {
            entries.reserveCapacity(Int(min(expectedBlocks, UInt64(BlockIndex.maximumBlocks))))
        }

        /// The next block's key. Past `maximumBlocks` keys are dropped; returns whether it was kept.
        @discardableResult
        public mutating func append(_ key: UInt64) -> Bool {
            guard entries.count < BlockIndex.maximumBlocks else { return false }
            entries.append(key & ~BlockIndex.blockMask | UInt64(entries.count))
            return true
        }

        public var count: Int { entries.count }

        public consuming func finish() -> BlockIndex {
            entries.withUnsafeMutableBufferPointer { BlockIndex.heapSort($0) }
            return BlockIndex(sorted: entries)
        }
    }

    private init(sorted: [UInt64]) {
        entries = sorted
    }

    public var count: Int { entries.count }

    /// Sorts in place with no memory of its own: the standard library's sort takes a buffer of
    /// half the array, which for a large slot is megabytes an install cannot spare.
    static func heapSort(_ values: UnsafeMutableBufferPointer<UInt64>) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end, values[child] < values[child + 1] { child += 1 }
                guard values[root] < values[child] else { return }
                values.swapAt(root, child)
                root = child
            }
        }
        let count = values.count
        guard count > 1 else { return }
        for start in stride(from: count / 2 - 1, through: 0, by: -1) { siftDown(start, count) }
        for end in stride(from: count - 1, to: 0, by: -1) {
            values.swapAt(0, end)
            siftDown(0, end)
        }
    }

    /// The number of a block with this key, if the image has one: the first in the image.
    public func block(for key: UInt64) -> UInt64? {
        let first = firstEntry(for: key)
        return first < entries.count && matches(first, key) ? entries[first] & BlockIndex.blockMask : nil
    }

    /// Calls `body` with the number of every block with this key, in image order.
    public func forEachBlock(withKey key: UInt64, _ body: (UInt64) -> Void) {
        var entry = firstEntry(for: key)
        while entry < entries.count, matches(entry, key) {
            body(entries[entry] & BlockIndex.blockMask)
            entry += 1
        }
    }

    /// The first entry whose key is not below `key`'s.
    private func firstEntry(for key: UInt64) -> Int {
        let wanted = key & ~BlockIndex.blockMask
        return entries.partitioningIndex { $0 & ~BlockIndex.blockMask >= wanted }
    }

    private func matches(_ entry: Int, _ key: UInt64) -> Bool {
        entries[entry] & ~BlockIndex.blockMask == key & ~BlockIndex.blockMask
    }
}
