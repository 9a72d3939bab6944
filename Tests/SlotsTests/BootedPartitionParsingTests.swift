import Foundation
import Testing
@testable import Slots

@Suite struct KernelCommandLineTests {
    @Test func keysAndQuotedValuesAreSplit() {
        let arguments = BootedPartitionDetector.parseCommandLine(
            "BOOT_IMAGE=/flatcar/vmlinuz-a mount.usr=/dev/mapper/usr verity.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132 "
                + "rootflags=rw quiet opt=\"a b\"\n")
        #expect(arguments["mount.usr"] == "/dev/mapper/usr")
        #expect(arguments["verity.usr"] == "PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132")
        #expect(arguments["opt"] == "a b")
        #expect(arguments["quiet"] == nil)
    }

    @Test func laterOccurrenceWins() {
        #expect(BootedPartitionDetector.parseCommandLine("usr=PARTLABEL=USR-A usr=PARTLABEL=USR-B")["usr"] == "PARTLABEL=USR-B")
    }
}

@Suite struct MountInfoTests {
    static let sample = """
        22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
        30 22 253:0 / /usr ro,relatime shared:5 - btrfs /dev/mapper/usr ro
        41 30 0:45 / /usr/share/oem rw - tmpfs tmpfs rw
        50 22 7:0 / /mnt/with\\040space rw - ext4 /dev/loop0 rw
        """

    @Test func theMountCoveringUsrIsFound() throws {
        let mount = try #require(MountInfo.covering("/usr", in: Self.sample))
        #expect(mount.device == .init(major: 253, minor: 0))
        #expect(mount.source == "/dev/mapper/usr")
    }

    @Test func aPathWithoutItsOwnMountFallsBackToItsParent() throws {
        let mount = try #require(MountInfo.covering("/var/lib", in: Self.sample))
        #expect(mount.mountPoint == "/")
        #expect(MountInfo.covering("/usrlocal", in: Self.sample)?.mountPoint == "/")
    }

    @Test func escapedSpacesAreDecoded() throws {
        let mount = try #require(MountInfo.covering("/mnt/with space", in: Self.sample))
        #expect(mount.device == .init(major: 7, minor: 0))
    }
}

/// Device-mapper cannot run here, so these build the sysfs tree the kernel shows for
/// dm-verity over a partition and check that detection walks through it.
@Suite struct SysfsWalkTests {
    final class FakeSystem {
        let root: URL
        var paths: SystemPaths

        init(cmdline: String = "quiet", mountinfo: String) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-sysfs-\(UUID().uuidString.prefix(8))")
            paths = SystemPaths(proc: root.path + "/proc", sys: root.path + "/sys", dev: root.path + "/dev")
            try write(cmdline, to: "proc/cmdline")
            try write(mountinfo, to: "proc/self/mountinfo")
            // vda with partitions vda3 and vda4; dm-0 (verity) over vda3; dm-1 (linear) over dm-0.
            try write("3\n", to: "sys/devices/pci0000:00/virtio1/block/vda/vda3/partition")
            try write("4\n", to: "sys/devices/pci0000:00/virtio1/block/vda/vda4/partition")
            try link("sys/devices/pci0000:00/virtio1/block/vda/vda3", from: "sys/devices/virtual/block/dm-0/slaves/vda3")
            try link("sys/devices/virtual/block/dm-0", from: "sys/devices/virtual/block/dm-1/slaves/dm-0")
            try link("sys/devices/virtual/block/dm-0", from: "sys/dev/block/253:0")
            try link("sys/devices/virtual/block/dm-1", from: "sys/dev/block/253:1")
            try link("sys/devices/pci0000:00/virtio1/block/vda/vda4", from: "sys/dev/block/254:4")
            try link("sys/devices/pci0000:00/virtio1/block/vda", from: "sys/dev/block/254:0")
            try FileManager.default.createDirectory(atPath: root.path + "/sys/devices/virtual/block/dm-2/slaves/vda3", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root.path + "/sys/devices/virtual/block/dm-2/slaves/vda4", withIntermediateDirectories: true)
            try link("sys/devices/virtual/block/dm-2", from: "sys/dev/block/253:2")
        }

        func write(_ text: String, to relative: String) throws {
            let url = root.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }

        func link(_ target: String, from relative: String) throws {
            let url = root.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root.path + "/" + target, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: root.path + "/" + target)
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    static func mountinfo(_ device: String) -> String {
        "22 1 254:1 / / rw - ext4 /dev/vda9 rw\n30 22 \(device) / /usr ro - btrfs none ro\n"
    }

    @Test func dmVerityIsFollowedToItsPartition() throws {
        let system = try FakeSystem(mountinfo: Self.mountinfo("253:0"))
        let found = try BootedPartitionDetector(paths: system.paths).detect()
        #expect(found.disk == system.paths.dev + "/vda")
        #expect(found.number == 3)
        #expect(found.evidence.contains("vda3"))
    }

    @Test func stackedMappingsAreFollowed() throws {
        let system = try FakeSystem(mountinfo: Self.mountinfo("253:1"))
        #expect(try BootedPartitionDetector(paths: system.paths).detect().number == 3)
    }

    @Test func aPlainPartitionNeedsNoMapping() throws {
        let system = try FakeSystem(mountinfo: Self.mountinfo("254:4"))
        let found = try BootedPartitionDetector(paths: system.paths).detect()
        #expect(found.number == 4 && found.disk.hasSuffix("/vda"))
    }

    @Test func aMappingOverSeveralDevicesIsRefused() throws {
        let system = try FakeSystem(mountinfo: Self.mountinfo("253:2"))
        #expect {
            try BootedPartitionDetector(paths: system.paths).detect()
        } throws: { error in
            "\(error)".contains("several devices")
        }
    }

    @Test func aWholeDiskIsNotASlot() throws {
        let system = try FakeSystem(mountinfo: Self.mountinfo("254:0"))
        #expect {
            try BootedPartitionDetector(paths: system.paths).detect()
        } throws: { error in
            "\(error)".contains("vda is not a partition")
        }
    }

    @Test func anAnonymousDeviceSaysWhatWasTried() throws {
        let system = try FakeSystem(mountinfo: Self.mountinfo("0:45"))
        #expect {
            try BootedPartitionDetector(paths: system.paths).detect()
        } throws: { error in
            let text = "\(error)"
            return text.contains("no usr=") && text.contains("not backed by a block device") && text.contains("booted-slot")
        }
    }
}
