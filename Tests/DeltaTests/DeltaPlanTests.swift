@testable import Delta
import Foundation
import Platform
import Testing
import TestSupport
import Verification

@Suite struct DeltaPlanTests {
    static func index(_ keys: [UInt64]) -> BlockIndex {
        var builder = BlockIndex.Builder()
        for key in keys { builder.append(key) }
        return builder.finish()
    }

    /// Keys are shortened to their top 40 bits in the index, above the block number.
    static func key(_ n: UInt64) -> UInt64 { n << 32 | 0xABCD }

    @Test func foundBlocksAreCopiedAndAdjacentFetchedBlocksShareARange() throws {
        let old = Self.index([Self.key(1), Self.key(4), Self.key(9)])
        let layout = try #require(ChunkLayout(imageSize: 7 * 4096 + 100, chunkSize: 64 << 10))
        var plan = try #require(DeltaPlan(layout: layout))
        // found, fetched, fetched, found, fetched (a repeat: fetched again), fetched, fetched, short last
        for n: UInt64 in [1, 2, 3, 4, 2, 5, 6, 7] { plan.add(key: Self.key(n), index: old) }
        #expect(plan.isComplete)
        #expect([plan.blocks, plan.blocksFound, plan.blocksFetched] == [8, 2, 6])
        #expect(plan.bytesFetched == 20580)
        let expected: [Range<UInt64>] = [4096..<12288, 16384..<28772]
        #expect(plan.fetchRanges == expected)
        let sources = (0..<8).map { plan.source(for: $0) }
        #expect(sources == [.booted(0), .fetched, .fetched, .booted(1), .fetched, .fetched, .fetched, .fetched])
        #expect(plan.source(for: 99) == .fetched, "a block past the image is nobody's")
        #expect(plan.downloadBytes == layout.tableLength + plan.bytesFetched)
    }

    /// Zero blocks are written from nothing, whether the old image has one or not: neither a
    /// read of the booted slot nor a download, and a run of them is one run.
    @Test func zeroBlocksAreNeitherCopiedNorFetched() throws {
        let old = Self.index([Self.key(1), BlockKeys.zeroBlockKey, Self.key(2)])
        let layout = try #require(ChunkLayout(imageSize: 6 * 4096, chunkSize: 64 << 10))
        var plan = try #require(DeltaPlan(layout: layout))
        for key in [Self.key(1), BlockKeys.zeroBlockKey, BlockKeys.zeroBlockKey, BlockKeys.zeroBlockKey, Self.key(2), Self.key(3)] {
            plan.add(key: key, index: old)
        }
        #expect([plan.blocksFound, plan.blocksOfZeros, plan.blocksFetched] == [2, 3, 1])
        #expect((0..<6).map { plan.source(for: $0) } == [.booted(0), .zeros, .zeros, .zeros, .booted(2), .fetched])
        #expect(plan.fetchRanges == [20480..<24576])
        #expect(plan.isWorthwhile)

        var zerosOnly = try #require(DeltaPlan(layout: layout))
        for _ in 0..<6 { zerosOnly.add(key: BlockKeys.zeroBlockKey, index: BlockIndex()) }
        #expect(zerosOnly.blocksOfZeros == 6 && zerosOnly.bytesFetched == 0 && zerosOnly.source(for: 5) == .zeros)
    }

    /// The zero block's key is what hashing a block of zeros gives, as the installer and the
    /// table's writer compute it.
    @Test func theZeroBlockKeyIsTheKeyOfAZeroBlock() throws {
        let fixture = try BundleFixture()
        let path = fixture.path("zeros.raw")
        try Data(count: 3 * 4096).write(to: URL(fileURLWithPath: path))
        var keys: [UInt64] = []
        try BlockKeys.forEach(hashing: path, from: 0, count: nil) { key, _ in keys.append(key) }
        #expect(keys == [UInt64](repeating: BlockKeys.zeroBlockKey, count: 3))
    }

    @Test func anIdenticalImageDownloadsOnlyTheTable() throws {
        let old = Self.index([Self.key(9), Self.key(8)])
        let layout = try #require(ChunkLayout(imageSize: 8192, chunkSize: 64 << 10))
        var plan = try #require(DeltaPlan(layout: layout))
        plan.add(key: Self.key(9), index: old)
        plan.add(key: Self.key(8), index: old)
        plan.add(key: Self.key(7), index: old)
        #expect(plan.blocks == 2, "a key past the image's last block is ignored")
        #expect(plan.bytesFetched == 0 && plan.fetchRanges.isEmpty && plan.downloadBytes == layout.tableLength)
    }

    @Test func anIndexFindsEveryKeyItHoldsAndNoOther() {
        let keys = (0..<5000).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        let index = Self.index(keys)
        #expect(index.count == 5000)
        for (block, key) in keys.enumerated() {
            let found = index.block(for: key)
            #expect(found.map { keys[Int($0)] >> 24 == key >> 24 } == true, "block \(block)")
        }
        #expect(index.block(for: 0xFFFF_FFFF_FF00_0000) == nil)
        #expect(BlockIndex().block(for: keys[0]) == nil)
    }

    /// Repeated keys (zero blocks, say): every block with a key, in image order.
    @Test func anIndexListsEveryBlockWithAKeyInImageOrder() {
        let index = Self.index([Self.key(5), Self.key(1), Self.key(5), Self.key(2), Self.key(5)])
        var blocks: [UInt64] = []
        index.forEachBlock(withKey: Self.key(5)) { blocks.append($0) }
        #expect(blocks == [0, 2, 4])
        #expect(index.block(for: Self.key(5)) == 0, "the first in the image")
        var none: [UInt64] = []
        index.forEachBlock(withKey: Self.key(9)) { none.append($0) }
        #expect(none.isEmpty)
    }

    /// The binary search every sorted lookup uses agrees with a linear scan, at both ends too.
    @Test func thePartitioningIndexIsTheFirstInTheSecondPart() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 7, 1000] {
            let values = (0..<count).map { _ in UInt64.random(in: 0...50, using: &generator) }.sorted()
            for wanted: UInt64 in [0, 1, 25, 50, 51] {
                #expect(values.partitioningIndex { $0 >= wanted } == (values.firstIndex { $0 >= wanted } ?? values.endIndex),
                        "\(count) values, \(wanted)")
            }
        }
    }

    /// The in-place sort agrees with the standard library's on any input.
    @Test func theInPlaceSortSorts() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 3, 100, 4097] {
            let values = (0..<count).map { _ in UInt64.random(in: 0...1000, using: &generator) }
            var sorted = values
            sorted.withUnsafeMutableBufferPointer { BlockIndex.heapSort($0) }
            #expect(sorted == values.sorted(), "\(count) values")
        }
    }

    @Test func anIndexHoldsAtMostItsMaximumAndAPlanRefusesAnImageTooLargeForIt() throws {
        var builder = BlockIndex.Builder()
        for key in 0..<UInt64(BlockIndex.maximumBlocks) { builder.append(key << 24) }
        #expect(!builder.append(1 << 60) && builder.count == BlockIndex.maximumBlocks)
        let large = try #require(ChunkLayout(imageSize: UInt64(DeltaPlan.maximumBlocks + 1) * 4096, chunkSize: 1 << 20))
        #expect(DeltaPlan(layout: large) == nil)
    }
}

@Suite struct BlockKeysTests {
    /// A format 3 bundle's stored keys and the keys hashed from its image agree, and a key is
    /// the first 8 bytes of the block's SHA-256 by openssl.
    @Test func storedAndHashedKeysAgreeWithOpenSSL() throws {
        let fixture = try BundleFixture()
        let image = try fixture.randomImage("image.raw", size: 3 * 4096 + 1000)
        let bundle = try fixture.bundle("v2.tandem", image: image, chunkSize: 64 << 10)
        let preamble = try BundleFile.readPreamble(path: bundle)
        let layout = try #require(preamble.manifest.chunkLayout)
        var stored: [UInt64] = [], lengths: [UInt64] = []
        try BlockKeys.forEach(inTableOf: bundle, preamble: preamble, layout: layout) { stored.append($0); lengths.append($1) }
        var hashed: [UInt64] = []
        try BlockKeys.forEach(hashing: image, from: 0, count: nil) { key, _ in hashed.append(key) }
        #expect(stored == hashed && stored.count == 4)
        #expect(lengths == [4096, 4096, 4096, 1000])
        let last = fixture.path("last-block")
        try Shell.run(["sh", "-c", "tail -c 1000 '\(image)' > '\(last)'"])
        let digest = try Shell.run(["openssl", "dgst", "-sha256", "-r", last]).prefix(16)
        #expect(String(stored[3], radix: 16).leftPadded(to: 16) == String(digest))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
