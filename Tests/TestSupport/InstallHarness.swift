import Delta
import Foundation
import Slots
import Streaming
import Testing
import Verification

/// A disk whose slot A is booted and good, and whose slot B holds an older good image (as after
/// an earlier update), plus signed bundles: the situation every install test starts from.
public final class InstallHarness {
    public let disk: TestDisk
    public let fixture: BundleFixture
    public let stateDirectory: String
    public static let slotBytes = UInt64(TestDisk.slotMiB) << 20

    public init(kind: DiskKind = .imageFile) throws {
        try kind.requirements()
        disk = try TestDisk(backing: kind.backing, sectorSize: kind.sectorSize)
        fixture = try BundleFixture()
        stateDirectory = fixture.path("state")
        let control = try BootControl(pair: try pair())
        try control.markGood(.b)
        try control.markGood(.a)
    }

    deinit {
        disk.remove()
    }

    public func pair() throws -> SlotPair {
        try SlotPair(disk: try Disk.probe(disk.path))
    }

    public func options(_ adjust: (inout InstallOptions) -> Void = { _ in }) -> InstallOptions {
        var options = InstallOptions(host: HostIdentity(compatible: BundleFixture.compatible, version: "1.5.0"))
        options.stateDirectory = stateDirectory
        options.checkpointInterval = 1 << 20
        adjust(&options)
        return options
    }

    public func installer(_ adjust: (inout InstallOptions) -> Void = { _ in }) throws -> Installer {
        let booted = try BootedSlot.locate(disk: disk.path, bootedSlot: "A")
        return Installer(booted: booted, trust: try fixture.trust, options: options(adjust))
    }

    @discardableResult
    public func install(_ bundle: String, _ adjust: (inout InstallOptions) -> Void = { _ in }) throws -> InstallResult {
        try installer(adjust).install(bundle)
    }

    /// Byte offset of partition `number` on the disk.
    public func offset(ofPartition number: Int) throws -> UInt64 {
        let partition = try #require(try disk.sfdiskPartitions().first { $0.number == number })
        return partition.start * UInt64(disk.sectorSize)
    }

    /// SHA-256 of the first `count` bytes of partition `number`, by `openssl dgst`.
    public func slotDigest(partition number: Int, count: UInt64) throws -> String {
        let script = "tail -c +\(try offset(ofPartition: number) + 1) '\(disk.path)' | head -c \(count) | openssl dgst -sha256 -r"
        return String(try Shell.run(["sh", "-c", script]).prefix(64))
    }

    public func fileDigest(_ path: String) throws -> String {
        String(try Shell.run(["openssl", "dgst", "-sha256", "-r", path]).prefix(64))
    }

    /// The B slot's image matches `image` byte for byte (by an independent hash) and B is on trial.
    public func expectInstalled(_ image: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int ?? 0)
        #expect(try slotDigest(partition: 4, count: size) == (try fileDigest(image)), sourceLocation: sourceLocation)
        #expect(try disk.sgdiskAttributes(4) == BootAttributes(priority: 2, tries: 1, successful: false).rawValue,
                "B is on trial with top priority", sourceLocation: sourceLocation)
        #expect(try disk.sgdiskAttributes(3) == BootAttributes(priority: 1, tries: 0, successful: true).rawValue,
                "A stays the good fallback", sourceLocation: sourceLocation)
        #expect(try disk.sgdiskVerifies().clean, sourceLocation: sourceLocation)
    }

    /// A failure after writing began: slot A's bytes and flags as in `snapshot`, B unbootable.
    public func expectActiveUntouchedAndTargetUnbootable(since snapshot: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let offsetA = try offset(ofPartition: 3)
        let same = try Shell.capture(["cmp", "-i", "\(offsetA):\(offsetA)", "-n", "\(InstallHarness.slotBytes)", snapshot, disk.path])
        #expect(same.status == 0, "slot A's bytes changed", sourceLocation: sourceLocation)
        #expect(try disk.sgdiskAttributes(3) == BootAttributes(priority: 2, tries: 0, successful: true).rawValue,
                "slot A's flags changed", sourceLocation: sourceLocation)
        #expect(try disk.sgdiskAttributes(4) == 0, "slot B must not be bootable", sourceLocation: sourceLocation)
        #expect(try BootControl(pair: try pair()).read().table.nextBoot() == 3, sourceLocation: sourceLocation)
    }
}

/// A harness with a signed bundle of a random image, and the disk as it was before any install.
public struct InstallScenario {
    public let harness: InstallHarness
    public let image: String
    public let bundle: String
    public let snapshot: String
    /// Where the image starts inside the bundle.
    public let imageOffset: UInt64

    /// `chunkSize` nil: a format 1 bundle.
    public init(imageSize: Int, chunkSize: UInt64? = ChunkLayout.defaultChunkSize) throws {
        harness = try InstallHarness()
        image = try harness.fixture.randomImage("image.raw", size: imageSize)
        bundle = try harness.fixture.bundle("v2.tandem", image: image, chunkSize: chunkSize)
        snapshot = try harness.disk.snapshot()
        imageOffset = try BundleFile.readPreamble(path: bundle).header.imageOffset
    }
}

/// A harness whose booted slot A holds an old image and a format 3 bundle of a new one, as a
/// point release changes it: every `changeEvery`-th block rewritten, a run of blocks moved, and
/// a short last block. A delta copies the rest from A. With `blockFile`, the bundle's block
/// file is written beside it, and seven in eight of the rewritten blocks are text (they
/// compress), the rest noise.
public struct DeltaScenario {
    public let harness: InstallHarness
    public let oldImage: String
    public let image: String
    public let bundle: String
    public let snapshot: String
    public let imageOffset: UInt64
    /// The image bytes a delta must fetch: the rewritten blocks and the short last block.
    public let changedBytes: UInt64
    /// Where the rewritten blocks start in the image, ascending.
    public let changedOffsets: [UInt64]

    public static let imageSize = 12 * (1 << 20) + 333

    /// The block file beside `bundle`, when written.
    public var blockFile: String { bundle + BlockFileHeader.fileSuffix }

    /// `zeroBlocks`: blocks of the new image made zeros (the old one, random, has none).
    public init(changeEvery: Int = 7, blockFile: Bool = false, zeroBlocks: Range<Int> = 0..<0) throws {
        harness = try InstallHarness()
        let blockSize = 4096
        oldImage = try harness.fixture.randomImage("old.raw", size: Self.imageSize)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: oldImage)))
        let blocks = Self.imageSize / blockSize
        // A run of 64 blocks moves 1 MiB further on: found in A at its old place.
        let moved = Array(bytes[(100 * blockSize)..<(164 * blockSize)])
        bytes.replaceSubrange((356 * blockSize)..<(420 * blockSize), with: moved)
        var offsets: [UInt64] = []
        for block in stride(from: 3, to: blocks, by: changeEvery) where !(100..<164).contains(block) && !(356..<420).contains(block) {
            // With a block file, one changed block in eight is noise, which the file stores raw:
            // its batches mix raw and compressed blocks, expanded in place.
            if blockFile, offsets.count % 8 != 5 {
                let line = Array("block \(block) of the point release: \(UInt64.random(in: 0...UInt64.max))\n".utf8)
                for index in 0..<blockSize { bytes[block * blockSize + index] = line[index % line.count] }
            } else {
                for index in (block * blockSize)..<((block + 1) * blockSize) { bytes[index] = UInt8.random(in: 0...255) }
            }
            offsets.append(UInt64(block * blockSize))
        }
        for block in zeroBlocks {
            bytes.replaceSubrange((block * blockSize)..<((block + 1) * blockSize), with: repeatElement(0, count: blockSize))
        }
        offsets.removeAll { zeroBlocks.contains(Int($0) / blockSize) }
        image = harness.fixture.path("new.raw")
        try Data(bytes).write(to: URL(fileURLWithPath: image))
        changedOffsets = offsets
        changedBytes = UInt64(offsets.count * blockSize + Self.imageSize % blockSize)
        bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let preamble = try BundleFile.readPreamble(path: bundle)
        if blockFile, let layout = preamble.manifest.chunkLayout {
            try BlockFileWriter.write(image: bundle, imageOffset: preamble.header.imageOffset, layout: layout,
                                      imageSHA256: preamble.manifest.imageSHA256, to: bundle + BlockFileHeader.fileSuffix)
        }
        let offsetA = try harness.offset(ofPartition: 3)
        try Shell.run(["dd", "if=\(oldImage)", "of=\(harness.disk.path)", "bs=1M", "conv=notrunc", "oflag=seek_bytes",
                       "seek=\(offsetA)", "status=none"])
        snapshot = try harness.disk.snapshot()
        imageOffset = preamble.header.imageOffset
    }

    /// Slot A's bytes are as in `snapshot` (by `cmp`): a delta only ever reads the booted slot.
    public func expectBootedSlotUntouched(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let offsetA = try harness.offset(ofPartition: 3)
        let same = try Shell.capture(["cmp", "-i", "\(offsetA):\(offsetA)", "-n", "\(InstallHarness.slotBytes)",
                                      snapshot, harness.disk.path])
        #expect(same.status == 0, "slot A's bytes changed", sourceLocation: sourceLocation)
    }
}
