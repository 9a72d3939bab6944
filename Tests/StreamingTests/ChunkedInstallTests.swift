import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// Format 3 installs: each chunk is proven against the signed chunk table before any of its
/// bytes reach the slot, the table is proven before anything is touched, a resume re-proves
/// what is already there, and format 1 bundles keep installing.
@Suite(.serialized)
struct ChunkedInstallTests {
    /// Seven chunks of 1 MiB, the last one short and not a whole number of blocks.
    static let imageSize = 6 * (1 << 20) + 4096 + 333

    static func scenario() throws -> (setup: InstallScenario, preamble: BundlePreamble, layout: ChunkLayout) {
        let setup = try InstallScenario(imageSize: imageSize)
        let preamble = try BundleFile.readPreamble(path: setup.bundle)
        return (setup, preamble, try #require(preamble.manifest.chunkLayout))
    }

    @Test func aFormatThreeBundleInstallsAndEveryChunkIsReadBack() throws {
        let (setup, preamble, layout) = try Self.scenario()
        #expect(preamble.header.formatVersion == 3 && layout.chunkCount == 7)
        let result = try setup.harness.install(setup.bundle)
        #expect(result.readbackVerified && result.activated)
        try setup.harness.expectInstalled(setup.image)
    }

    /// The tampered chunk is the first, one in the middle, or the last (short) one.
    /// A full install and a delta (whose fetched blocks are the tampered ones).
    @Test(arguments: [(0, false), (3, false), (6, false), (0, true), (3, true), (6, true)])
    func aTamperedChunkIsCaughtBeforeItIsWritten(chunk: Int, delta: Bool) throws {
        let (setup, _, layout) = try Self.scenario()
        let range = layout.chunkRange(chunk)
        try BadBundleTests.flipByte(in: setup.bundle, at: setup.imageOffset + range.lowerBound + UInt64(range.count / 2))
        #expect { try setup.harness.install(setup.bundle) { $0.delta = delta } } throws: { error in
            guard case let .stream(.chunkMismatch(failed, failedRange))? = error as? InstallError else { return false }
            return failed == chunk && failedRange == range && "\(error)".contains("that chunk was not written")
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        // A full install writes in order and only proven chunks: nothing from the tampered
        // chunk on reached slot B. A delta goes on past it (the chunks after it are proven
        // too) and fetches it again at the end: none of its bytes reached B.
        let offsetB = try setup.harness.offset(ofPartition: 4) + range.lowerBound
        let rest = delta ? UInt64(range.count) : UInt64(Self.imageSize) - range.lowerBound
        let same = try Shell.capture(["cmp", "-i", "\(offsetB):\(offsetB)", "-n", "\(rest)", setup.snapshot, setup.harness.disk.path])
        #expect(same.status == 0, "slot B changed from the tampered chunk on")
    }

    @Test func aTamperedTableIsRefusedBeforeTheTargetIsTouched() throws {
        let (setup, preamble, layout) = try Self.scenario()
        // A block key, far from the chunk digests: the whole table is covered.
        try BadBundleTests.flipByte(in: setup.bundle, at: preamble.header.tableOffset + layout.keysOffset + 100)
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case .bundle(.chunkTableMismatch)? = error as? InstallError else { return false }
            return true
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot), "not even the target's flags changed")
    }

    @Test func aFormatOneBundleStillInstalls() throws {
        let harness = try InstallHarness()
        let image = try harness.fixture.randomImage("image.raw", size: Self.imageSize)
        let bundle = try harness.fixture.bundle("legacy.tandem", image: image, chunkSize: nil)
        #expect(try BundleFile.readPreamble(path: bundle).header.formatVersion == 1)
        try harness.install(bundle)
        try harness.expectInstalled(image)
    }

    /// The update server's digest covers the whole file: preamble, chunk table, image.
    @Test func theWholeFileDigestCoversTheChunkTable() throws {
        let (setup, preamble, _) = try Self.scenario()
        let size = preamble.header.bundleLength
        let digest = try #require(bytes(fromHex: try setup.harness.fileDigest(setup.bundle)))
        let result = try setup.harness.install(setup.bundle) { $0.expectedPayload = PayloadExpectation(size: size, sha256: digest) }
        #expect(result.payloadSHA256 == digest)
        try setup.harness.expectInstalled(setup.image)
    }

    /// A checkpoint from an interrupted install of this image into B, with B invalidated as the
    /// interrupted install left it.
    static func interrupted(_ setup: InstallScenario, preamble: BundlePreamble, at offset: UInt64) throws {
        try interrupted(setup.harness, bundle: setup.bundle, preamble: preamble, at: offset)
    }

    static func interrupted(_ harness: InstallHarness, bundle: String, preamble: BundlePreamble, at offset: UInt64) throws {
        let pair = try harness.pair()
        try BootControl(pair: pair).invalidate(.b)
        try CheckpointStore(stateDirectory: harness.stateDirectory).save(Checkpoint(
            imageSHA256: hexString(preamble.manifest.imageSHA256), imageSize: preamble.manifest.imageSize,
            version: preamble.manifest.version, slotUUID: pair.b.partition.uniqueGUID.description, offset: offset,
            source: bundle, validator: nil))
    }

    @Test func aResumeProvesTheWrittenChunksAndGoesOnFromTheCheckpoint() throws {
        let (setup, preamble, _) = try Self.scenario()
        let written: UInt64 = 3 << 20
        let offsetB = try setup.harness.offset(ofPartition: 4)
        try Shell.run(["dd", "if=\(setup.image)", "of=\(setup.harness.disk.path)", "bs=1M", "count=3", "conv=notrunc",
                       "oflag=seek_bytes", "seek=\(offsetB)", "status=none"])
        try Self.interrupted(setup, preamble: preamble, at: written)
        let result = try setup.harness.install(setup.bundle)
        #expect(result.resumedFrom == written)
        try setup.harness.expectInstalled(setup.image)
    }

    /// B holds whatever it held, not the image: the checkpoint's claim is false for its one
    /// chunk, which is proven wrong and fetched again; nothing is started over.
    @Test(arguments: [false, true]) func aResumeOverAChunkThatChangedFetchesItAgain(delta: Bool) throws {
        let (setup, preamble, _) = try Self.scenario()
        try Self.interrupted(setup, preamble: preamble, at: 1 << 20)
        let result = try setup.harness.install(setup.bundle) { $0.delta = delta }
        #expect(result.resumedFrom == 1 << 20)
        #expect(result.chunksRefetched == 1)
        try setup.harness.expectInstalled(setup.image)
    }
}
