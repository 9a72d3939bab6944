import Delta
import Foundation
import Testing
import TestSupport
import Verification

@Suite struct DeltaEstimateTests {
    @Test func foundRepeatedAndFetchedBlocksAreCountedAndAdjacentFetchesShareARange() {
        var estimate = DeltaEstimate(imageSize: 7 * 4096 + 100, tableBytes: 96)
        // found, fetched, fetched, found, fetched again (repeat), fetched, fetched, short last
        let blocks: [(key: UInt64, length: UInt64, inOld: Bool)] = [
            (1, 4096, true), (2, 4096, false), (3, 4096, false), (4, 4096, true),
            (2, 4096, false), (5, 4096, false), (6, 4096, false), (7, 100, false),
        ]
        for block in blocks { estimate.add(key: block.key, length: block.length, inOld: block.inOld) }
        #expect(estimate.blocks == 8 && estimate.blocksFound == 2 && estimate.blocksRepeated == 1)
        #expect(estimate.blocksFetched == 5 && estimate.bytesFetched == 4 * 4096 + 100)
        #expect(estimate.ranges == 2, "blocks 1-2, then 5-7: the repeat in between is not fetched but ends the run")
        #expect(estimate.downloadBytes == 96 + 4 * 4096 + 100)
    }

    @Test func anIdenticalImageDownloadsOnlyTheTable() {
        var estimate = DeltaEstimate(imageSize: 8192, tableBytes: 48)
        estimate.add(key: 9, length: 4096, inOld: true)
        estimate.add(key: 9, length: 4096, inOld: true)
        #expect(estimate.bytesFetched == 0 && estimate.ranges == 0 && estimate.downloadBytes == 48)
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
