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
