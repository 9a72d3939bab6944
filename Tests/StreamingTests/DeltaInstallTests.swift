import Foundation
import Slots
import Synchronization
import Streaming
import Testing
import TestSupport
import Verification

/// Delta installs of format 3 bundles: blocks the booted slot holds are copied from it, the
/// rest is fetched in ranges, every chunk is proven before it is written, and the booted slot
/// is only ever read.
@Suite(.serialized)
struct DeltaInstallTests {
    @Test func aDeltaFromAFileCopiesWhatTheBootedSlotHolds() throws {
        let setup = try DeltaScenario()
        let result = try setup.harness.install(setup.bundle)
        let delta = try #require(result.delta)
        #expect(delta.bytesFetched == setup.changedBytes)
        #expect(delta.blocksFromBootedSlot == UInt64(DeltaScenario.imageSize / 4096) - UInt64(setup.changedOffsets.count))
        #expect(result.chunksRefetched == 0)
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
    }

    /// Zero blocks the booted slot does not hold are written from nothing: not fetched, and
    /// proven with their chunks like any other block.
    @Test func zeroBlocksAreWrittenFromNothing() throws {
        let setup = try DeltaScenario(zeroBlocks: 1000..<1300)
        let server = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(server.url)
        let delta = try #require(result.delta)
        #expect(delta.blocksOfZeros == 300)
        #expect(delta.bytesFetched == setup.changedBytes, "\(delta.bytesFetched) fetched, \(setup.changedBytes) changed")
        #expect(delta.blocksFromBootedSlot == UInt64(DeltaScenario.imageSize / 4096) - UInt64(setup.changedOffsets.count) - 300)
        #expect(result.chunksRefetched == 0)
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
    }

    /// nginx's way: all the ranges of a batch in one request, answered multipart/byteranges.
    @Test func aDeltaOverHTTPFetchesOnlyTheChangedBlocksInMultiRangeRequests() throws {
        let setup = try DeltaScenario()
        let server = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(server.url)
        let delta = try #require(result.delta)
        #expect(delta.bytesFetched == setup.changedBytes && delta.manyRangesRefusal == nil)
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
        let exchanges = try server.finishedExchanges()
        let multi = exchanges.filter { ($0["ranges"] as? Int ?? 0) > 1 }
        // 440 ranges, 128 to a request.
        #expect(multi.count == 4, "\(exchanges.count) requests")
        let sent = try server.bytesSent()
        // The preamble's request may send up to the longest preamble before it is cut off, and
        // each multipart part has ~100 bytes of headers: beyond those, only the changed blocks.
        let overhead: UInt64 = 140_000 + 440 * 120
        #expect(UInt64(sent) < setup.imageOffset + setup.changedBytes + overhead)
        #expect(UInt64(sent) * 4 < UInt64(DeltaScenario.imageSize), "a quarter of the image at most")
    }

    @Test func aServerWithoutMultiRangeSupportGetsOneRangeARequest() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle, arguments: ["--max-ranges", "1"])
        let result = try setup.harness.install(server.url)
        let delta = try #require(result.delta)
        #expect(delta.manyRangesRefusal?.contains("HTTP 200") == true)
        try setup.harness.expectInstalled(setup.image)
        let exchanges = try server.finishedExchanges()
        let refused = exchanges.filter { ($0["ranges"] as? Int ?? 0) > 1 }
        #expect(refused.count == 1, "asked once for many ranges, then never again")
        #expect(refused.allSatisfy { ($0["bytes"] as? Int ?? .max) < 4 << 20 }, "the whole file it sent instead was cut off")
    }

    @Test func aServerThatMergesRangesIntoOneIsUnderstood() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle, arguments: ["--mode", "merge-ranges"])
        let result = try setup.harness.install(server.url)
        #expect(result.delta?.manyRangesRefusal == nil)
        try setup.harness.expectInstalled(setup.image)
    }

    /// A short answer (a part missing from a multipart body, half of a single range) is
    /// completed by asking again; nothing short is written.
    @Test func aServerThatSendsShortRangesIsAskedAgain() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle,
                                      arguments: ["--mode", "short-range", "--from", "\(setup.imageOffset)", "--lie-count", "6"])
        let result = try setup.harness.install(server.url)
        #expect(result.delta?.manyRangesRefusal?.contains("lacks some of the ranges") == true)
        try setup.harness.expectInstalled(setup.image)
    }

    /// Wrong bytes for a range once: the chunks they land in do not prove out, so they are not
    /// written but fetched again whole, and the install ends right.
    @Test func wrongBytesOnceAreCaughtAndFetchedAgain() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle,
                                      arguments: ["--mode", "lie", "--from", "\(setup.imageOffset)", "--lie-count", "1"])
        let result = try setup.harness.install(server.url)
        #expect(result.chunksRefetched > 0)
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
    }

    /// A server that always lies: the chunk fetched again whole is wrong too, and that ends it.
    @Test func aServerThatAlwaysLiesFailsWithTheTargetUnbootable() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle, arguments: ["--mode", "lie", "--from", "\(setup.imageOffset)"])
        #expect { try setup.harness.install(server.url) } throws: { error in
            guard case .stream(.chunkMismatch)? = error as? InstallError else { return false }
            return true
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
    }

    /// A server that answers every Range request with the whole file (200) cannot serve a
    /// delta: a clear error, and the target stays unbootable.
    @Test func aServerThatIgnoresRangesFailsClearly() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle, arguments: ["--mode", "ignore-range", "--from", "\(setup.imageOffset)"])
        #expect { try setup.harness.install(server.url) } throws: { error in
            "\(error)".contains("ignores ranges")
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
    }

    /// A tampered chunk of the bundle, in a block the delta fetches: caught before it is
    /// written, the chunk is fetched again whole, still wrong, and the install fails.
    @Test func aTamperedFetchedChunkIsNeverWritten() throws {
        let setup = try DeltaScenario()
        let offset = setup.changedOffsets[setup.changedOffsets.count / 2]
        try BadBundleTests.flipByte(in: setup.bundle, at: setup.imageOffset + offset + 10)
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case .stream(.chunkMismatch)? = error as? InstallError else { return false }
            return true
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
    }

    /// Bit rot in the booted slot: the rotten block's key is not the image's any more, so it
    /// is fetched rather than copied, and nothing else changes.
    @Test func aRottenBlockOfTheBootedSlotIsFetchedInstead() throws {
        let setup = try DeltaScenario()
        let offsetA = try setup.harness.offset(ofPartition: 3)
        // Block 1 is not rewritten by the new image: the delta would copy it.
        try BadBundleTests.flipByte(in: setup.harness.disk.path, at: offsetA + 4096 + 7)
        let result = try setup.harness.install(setup.bundle)
        #expect(result.delta?.bytesFetched == setup.changedBytes + 4096)
        try setup.harness.expectInstalled(setup.image)
    }

    /// A block of the booted slot that changes after it was hashed (bit rot, or a writer
    /// that should not be there) reaches the pipeline wrong: its chunk does not prove out, none
    /// of it is written, and it is fetched again whole from the bundle.
    @Test func aBootedSlotBlockChangedAfterHashingIsNeverWritten() throws {
        let setup = try DeltaScenario()
        let offsetA = try setup.harness.offset(ofPartition: 3)
        // Block 2560 (10 MiB in, not rewritten by the new image): the producer is at most four
        // buffers ahead of the first chunk written, so it has not read it yet.
        let target = offsetA + 2560 * 4096 + 100
        let disk = try FileHandle(forUpdating: URL(fileURLWithPath: setup.harness.disk.path))
        defer { try? disk.close() }
        let corrupted = Mutex(false)
        let result = try setup.harness.installer().install(setup.bundle, progress: { progress in
            guard progress.phase == .writing else { return }
            corrupted.withLock { done in
                guard !done else { return }
                done = true
                try? disk.seek(toOffset: target)
                try? disk.write(contentsOf: Data([0xEE, 0xEF]))
                try? disk.synchronize()
            }
        })
        #expect(corrupted.withLock { $0 })
        #expect(result.chunksRefetched == 1)
        #expect(result.delta?.bytesFetched == setup.changedBytes + (1 << 20))
        try setup.harness.expectInstalled(setup.image)
    }

    /// The only way a copied block can be wrong when it is written: it changed after the
    /// booted slot was hashed. Here the changed part of an interrupted delta's target is the
    /// stand-in: its chunks are proven, rejected and fetched again.
    @Test func aDeltaResumedOverAWrongChunkFetchesItAgain() throws {
        let setup = try DeltaScenario()
        let preamble = try BundleFile.readPreamble(path: setup.bundle)
        try ChunkedInstallTests.interrupted(setup.harness, bundle: setup.bundle, preamble: preamble, at: 2 << 20)
        let result = try setup.harness.install(setup.bundle)
        #expect(result.resumedFrom == 2 << 20 && result.chunksRefetched == 2)
        #expect(result.delta != nil)
        try setup.harness.expectInstalled(setup.image)
    }

    /// The block file beside the bundle serves the changed blocks compressed: a fraction of
    /// their bytes crosses the network, and the slot ends the same.
    @Test func theBlockFileServesTheChangedBlocksCompressed() throws {
        let setup = try DeltaScenario(blockFile: true)
        let server = try BundleServer(file: setup.bundle, arguments: ["--blocks", setup.blockFile])
        let result = try setup.harness.install(server.url)
        let delta = try #require(result.delta)
        #expect(delta.blockFileRefusal == nil && delta.bytesFetched == setup.changedBytes)
        #expect(delta.bytesDownloaded * 4 < delta.bytesFetched, "\(delta.bytesDownloaded) of \(delta.bytesFetched)")
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
        let exchanges = try server.finishedExchanges()
        let toBlockFile = exchanges.filter { ($0["path"] as? String)?.hasSuffix(".blocks") == true }
        // The header, then per batch of 128 ranges its offsets and its blocks: 4 batches.
        #expect(toBlockFile.count == 9, "\(toBlockFile.count) requests")
        let sent = try server.bytesSent()
        #expect(UInt64(sent) < setup.imageOffset + setup.changedBytes / 3, "\(sent) bytes sent in all")
    }

    /// No block file published (404): the blocks come raw from the bundle.
    @Test func withoutABlockFileTheBlocksComeRaw() throws {
        let setup = try DeltaScenario(changeEvery: 61)
        let server = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(server.url)
        let delta = try #require(result.delta)
        #expect(delta.blockFileRefusal?.contains("404") == true, "\(delta.blockFileRefusal ?? "nil")")
        #expect(delta.bytesDownloaded == delta.bytesFetched)
        try setup.harness.expectInstalled(setup.image)
    }

    /// A block file that lies (stored blocks swapped or garbled, offsets out of order, another
    /// image's) never makes a wrong byte land: it is dropped, or the chunks it spoiled are
    /// rejected and fetched again from the bundle.
    @Test(arguments: ["garbled-frame", "offsets", "other-image"])
    func aLyingBlockFileCostsOnlyADownload(lie: String) throws {
        let setup = try DeltaScenario(blockFile: true)
        var file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: setup.blockFile)))
        let blocks = Int((DeltaScenario.imageSize + 4095) / 4096)
        let dataStart = 64 + (blocks + 1) * 8
        func entry(_ block: Int) -> Int { (0..<8).reduce(0) { $0 | Int(file[64 + block * 8 + $1]) << (8 * $1) } }
        let changed = Int(setup.changedOffsets[setup.changedOffsets.count / 2] / 4096)
        switch lie {
        case "garbled-frame":
            // A frame that still decodes is unlikely; either way the chunk is proven.
            for index in (dataStart + entry(changed) + 4)..<(dataStart + entry(changed + 1)) { file[index] ^= 0x5A }
        case "offsets":
            // Block `changed` claims the whole data: longer than any block may be stored.
            for byte in 0..<8 { file[64 + (changed + 1) * 8 + byte] = 0xFF }
        default:
            file[40] ^= 1
        }
        try Data(file).write(to: URL(fileURLWithPath: setup.blockFile))
        let server = try BundleServer(file: setup.bundle, arguments: ["--blocks", setup.blockFile])
        let result = try setup.harness.install(server.url)
        let delta = try #require(result.delta)
        #expect(delta.blockFileRefusal != nil || result.chunksRefetched > 0)
        if lie == "other-image" { #expect(delta.blockFileRefusal?.contains("another image") == true) }
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
    }

    /// A booted slot that holds nothing of the new image: its sample decides that at once, and
    /// the install is a full one (one streamed download, whose whole-file digest can be checked).
    @Test func aBootedSlotThatHoldsNothingOfTheImageGetsAFullInstall() throws {
        let setup = try InstallScenario(imageSize: 3 << 20)
        let result = try setup.harness.install(setup.bundle)
        #expect(result.delta == nil)
        try setup.harness.expectInstalled(setup.image)
    }

    @Test func deltasCanBeTurnedOff() throws {
        let setup = try DeltaScenario()
        let result = try setup.harness.install(setup.bundle) { $0.delta = false }
        #expect(result.delta == nil)
        try setup.harness.expectInstalled(setup.image)
    }
}
