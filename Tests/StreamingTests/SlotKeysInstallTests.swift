import Delta
import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// Slot keys records: an install records its target's block keys, and a later delta from that
/// slot, once it is the booted one, looks them up instead of hashing the slot, but only while a
/// sample of the slot agrees with them; whatever the record gets wrong costs a download, never a
/// wrong byte.
@Suite(.serialized)
struct SlotKeysInstallTests {
    /// A booted slot B that an install wrote (the old image of a `DeltaScenario`, from its
    /// format 3 bundle), so that B's keys are recorded; the new image installs from B into A.
    struct BootedFromRecordedSlot {
        let setup: DeltaScenario
        let oldBundle: String
        let store: SlotKeysStore
        let guidA: String
        let guidB: String

        init(changeEvery: Int = 7) throws {
            setup = try DeltaScenario(changeEvery: changeEvery)
            oldBundle = try setup.harness.fixture.bundle("v1.tandem", image: setup.oldImage, version: "1.9.0")
            let first = try setup.harness.install(oldBundle)
            store = SlotKeysStore(stateDirectory: setup.harness.stateDirectory)
            let pair = try setup.harness.pair()
            guidA = pair.a.partition.uniqueGUID.description
            guidB = pair.b.partition.uniqueGUID.description
            #expect(first.slotKeys == .recorded(path: store.path(forPartition: guidB)))
        }

        var recordB: String { store.path(forPartition: guidB) }

        /// Installs the new image with B booted.
        func installFromB(_ adjust: (inout InstallOptions) -> Void = { _ in }) throws -> InstallResult {
            let booted = try BootedSlot.locate(disk: setup.harness.disk.path, bootedSlot: "B")
            return try Installer(booted: booted, trust: try setup.harness.fixture.trust,
                                 options: setup.harness.options(adjust)).install(setup.bundle)
        }

        /// Slot A holds the new image (by `openssl dgst`), and B's bytes are as in `snapshot`.
        func expectNewImageInAAndBUntouched(since snapshot: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let size = UInt64(DeltaScenario.imageSize)
            #expect(try setup.harness.slotDigest(partition: 3, count: size) == (try setup.harness.fileDigest(setup.image)),
                    sourceLocation: sourceLocation)
            let offsetB = try setup.harness.offset(ofPartition: 4)
            let same = try Shell.capture(["cmp", "-i", "\(offsetB):\(offsetB)", "-n", "\(InstallHarness.slotBytes)",
                                          snapshot, setup.harness.disk.path])
            #expect(same.status == 0, "slot B's bytes changed", sourceLocation: sourceLocation)
        }

        /// Overwrites `count` bytes of B at `offset` within it.
        func corruptB(at offset: UInt64) throws {
            try BadBundleTests.flipByte(in: setup.harness.disk.path, at: try setup.harness.offset(ofPartition: 4) + offset)
        }
    }

    /// The record holds exactly the keys of the bundle's chunk table (compared by `cmp`, not by
    /// Tandem's reader), after a header naming the image.
    @Test func anInstallRecordsItsTargetsKeys() throws {
        let scenario = try BootedFromRecordedSlot()
        let preamble = try BundleFile.readPreamble(path: scenario.oldBundle)
        let layout = try #require(preamble.manifest.chunkLayout)
        let keysInBundle = preamble.header.tableOffset + layout.keysOffset
        let keysLength = layout.blockCount * UInt64(ChunkLayout.keyLength)
        let same = try Shell.capture(["cmp", "-i", "\(keysInBundle):\(SlotKeysHeader.size)", "-n", "\(keysLength)",
                                      scenario.oldBundle, scenario.recordB])
        #expect(same.status == 0, "the recorded keys are the table's")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: scenario.recordB)[.size] as? Int)
        #expect(UInt64(size) == UInt64(SlotKeysHeader.size) + keysLength)
        let record = try SlotKeysRecord.open(scenario.recordB)
        #expect(record.header.imageSize == layout.imageSize && record.header.imageSHA256 == preamble.manifest.imageSHA256)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scenario.store.directory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    /// The delta from B takes B's keys from its record: the same blocks are found as by
    /// hashing, and the slot written is exact.
    @Test func aDeltaFromARecordedSlotUsesItsKeys() throws {
        let scenario = try BootedFromRecordedSlot()
        let snapshot = try scenario.setup.harness.disk.snapshot()
        let result = try scenario.installFromB()
        let delta = try #require(result.delta)
        #expect(delta.bootedSlotKeys == .recorded)
        #expect(delta.bytesFetched == scenario.setup.changedBytes)
        #expect(delta.blocksFromBootedSlot == UInt64(DeltaScenario.imageSize / 4096) - UInt64(scenario.setup.changedOffsets.count))
        #expect(result.chunksRefetched == 0)
        #expect(result.slotKeys == .recorded(path: scenario.store.path(forPartition: scenario.guidA)))
        try scenario.expectNewImageInAAndBUntouched(since: snapshot)
    }

    /// A sampled block (block 0 always is) that no longer hashes to its recorded key: the slot
    /// was written since, so the record is not used and the slot is hashed.
    @Test func aSlotChangedSinceItsRecordIsHashed() throws {
        let scenario = try BootedFromRecordedSlot()
        try scenario.corruptB(at: 100)
        let snapshot = try scenario.setup.harness.disk.snapshot()
        let result = try scenario.installFromB()
        let delta = try #require(result.delta)
        #expect(delta.bootedSlotKeys == .hashed(.slotChanged(block: 0)))
        // Block 0 is rewritten by nothing else: its new copy is fetched, not copied.
        #expect(delta.bytesFetched == scenario.setup.changedBytes + 4096 && result.chunksRefetched == 0)
        try scenario.expectNewImageInAAndBUntouched(since: snapshot)
    }

    /// Bit rot where the sample does not look (block 1: the sample takes every fourth block of
    /// a 16 MiB slot): the record is used and proposes the rotten block, whose chunk then does
    /// not prove out; it is fetched again whole, and nothing wrong is written.
    @Test func bitRotTheSampleMissesIsFetchedNotCopied() throws {
        let scenario = try BootedFromRecordedSlot()
        try scenario.corruptB(at: 4096 + 7)
        let snapshot = try scenario.setup.harness.disk.snapshot()
        let result = try scenario.installFromB()
        let delta = try #require(result.delta)
        #expect(delta.bootedSlotKeys == .recorded)
        #expect(result.chunksRefetched == 1)
        #expect(delta.bytesFetched == scenario.setup.changedBytes + (1 << 20))
        try scenario.expectNewImageInAAndBUntouched(since: snapshot)
    }

    /// Records that cannot be used (garbage, another version, cut short) cost only the hashing
    /// pass; the install is the same.
    @Test(arguments: [
        ("garbage", SlotKeysRefusal.notARecord),
        ("version 2", .unsupportedVersion(2)),
        ("cut short", .inconsistent),
    ])
    func anUnusableRecordIsIgnored(damage: String, refusal: SlotKeysRefusal) throws {
        let scenario = try BootedFromRecordedSlot()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: scenario.recordB)))
        switch damage {
        case "garbage": bytes.replaceSubrange(0..<64, with: repeatElement(0x5A, count: 64))
        case "version 2": bytes[8] = 2
        default: bytes.removeLast(3)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: scenario.recordB))
        let snapshot = try scenario.setup.harness.disk.snapshot()
        let result = try scenario.installFromB()
        let delta = try #require(result.delta)
        #expect(delta.bootedSlotKeys == .hashed(refusal))
        #expect(delta.bytesFetched == scenario.setup.changedBytes)
        try scenario.expectNewImageInAAndBUntouched(since: snapshot)
    }

    /// An install into B that fails once it has begun writing leaves no record of B (its old
    /// one would describe bytes that are gone), nor a partial one; what a killed recording
    /// left behind goes too.
    @Test func aFailedInstallLeavesNoRecordOfItsTarget() throws {
        let scenario = try BootedFromRecordedSlot(changeEvery: 61)
        let leftover = scenario.recordB + ".tmp-Ab12Cd"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data([1, 2, 3])))
        let server = try BundleServer(file: scenario.setup.bundle,
                                      arguments: ["--mode", "lie", "--from", "\(scenario.setup.imageOffset)"])
        // Booted from A, into B: the server's lies end it after the target was invalidated.
        #expect(throws: InstallError.self) { try scenario.setup.harness.install(server.url) }
        #expect(!FileManager.default.fileExists(atPath: scenario.recordB))
        let names = try FileManager.default.contentsOfDirectory(atPath: scenario.store.directory)
        #expect(names.isEmpty, "\(names)")
    }

    /// A format 1 bundle has no keys: installing one into B removes B's record and records none.
    @Test func aFormat1InstallRemovesTheRecordAndKeepsNone() throws {
        let scenario = try BootedFromRecordedSlot()
        let format1 = try scenario.setup.harness.fixture.bundle("v2-format1.tandem", image: scenario.setup.image, chunkSize: nil)
        let result = try scenario.setup.harness.install(format1)
        #expect(result.slotKeys == .notKept)
        #expect(!FileManager.default.fileExists(atPath: scenario.recordB))
        try scenario.setup.harness.expectInstalled(scenario.setup.image)
    }

    /// A state directory where no record can be made: the install still succeeds, and says so.
    @Test func anUnwritableRecordDoesNotFailTheInstall() throws {
        let setup = try DeltaScenario()
        // A file where the records' directory should be.
        try FileManager.default.createDirectory(atPath: setup.harness.stateDirectory, withIntermediateDirectories: true)
        let store = SlotKeysStore(stateDirectory: setup.harness.stateDirectory)
        #expect(FileManager.default.createFile(atPath: store.directory, contents: Data()))
        let result = try setup.harness.install(setup.bundle)
        guard case .failed = result.slotKeys else {
            Issue.record("expected the record to fail, got \(result.slotKeys)")
            return
        }
        try setup.harness.expectInstalled(setup.image)
    }
}
