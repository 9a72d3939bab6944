import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// The ESP locator over prepared kernel views: sysfs gives the partition's device number,
/// mountinfo (with hostile lines around the real one) its mount point.
@Suite struct ESPLocatorTests {
    /// A probed Flatcar-layout disk (ESP is partition 1) presented as the block device
    /// `/dev/<name>`, with a sysfs tree saying its partition 1 is device 259:77.
    static func fixture(_ disk: TestDisk, mountinfo: String, name: String = "vdtest") throws -> (Disk, SystemPaths) {
        var probed = try Disk.probe(disk.path)
        probed.path = "/dev/" + name
        probed.isBlockDevice = true
        let root = disk.directory.appendingPathComponent("kernel-\(UUID().uuidString)")
        let partition = root.appendingPathComponent("sys/class/block/\(name)/\(name)1")
        try FileManager.default.createDirectory(at: partition, withIntermediateDirectories: true)
        try "1\n".write(to: partition.appendingPathComponent("partition"), atomically: true, encoding: .utf8)
        try "259:77\n".write(to: partition.appendingPathComponent("dev"), atomically: true, encoding: .utf8)
        let proc = root.appendingPathComponent("proc/self")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try mountinfo.write(to: proc.appendingPathComponent("mountinfo"), atomically: true, encoding: .utf8)
        return (probed, SystemPaths(proc: root.appendingPathComponent("proc").path, sys: root.appendingPathComponent("sys").path))
    }

    /// Lines that must be skipped, not trusted or trapped on: too short, no separator,
    /// non-numeric or overflowing device numbers, a neighbouring minor, binary junk.
    static let hostileLines = """
        garbage
        1 2 3
        22 1 259:77 / /wrong rw shared:1 ext4 /dev/none rw
        23 1 x:y / /wrong2 rw - vfat /dev/none rw
        24 1 259:99999999999 / /wrong3 rw - vfat /dev/none rw
        25 1 259:770 / /wrong4 rw - vfat /dev/none rw
        26 1 259:7 / /wrong5 rw - vfat /dev/none rw
        \u{1}\u{2}\u{ff} - - -
        -
        
        """

    @Test func theESPIsFoundMountedByItsDeviceNumber() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let mountinfo = Self.hostileLines + "40 1 259:77 / /boot/efi\\040dir rw,relatime - vfat /dev/not-a-device rw\n"
            let (disk, paths) = try Self.fixture(testDisk, mountinfo: mountinfo)
            #expect(try ESPLocator(paths: paths).locate(configured: nil, on: disk, for: .grubEnv) == "/boot/efi dir")
        }
    }

    @Test func anUnmountedESPIsAClearError() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let (disk, paths) = try Self.fixture(testDisk, mountinfo: Self.hostileLines)
            let error = try #require(throws: SlotError.self) {
                try ESPLocator(paths: paths).locate(configured: nil, on: disk, for: .systemdBoot)
            }
            let text = "\(error)"
            #expect(text.contains("partition 1 (ESP), is not mounted") && text.contains("mount it or pass --esp"), "\(text)")
        }
    }

    @Test func anXBOOTLDRPartitionIsAcceptedToo() throws {
        try TestDisk.with(.imageFile) { testDisk in
            var (disk, paths) = try Self.fixture(testDisk, mountinfo: "40 1 259:77 / /boot rw - vfat /dev/none rw\n")
            disk.partitions[0].typeGUID = ESPLocator.xbootldrType
            #expect(try ESPLocator(paths: paths).locate(configured: nil, on: disk, for: .systemdBoot) == "/boot")
        }
    }

    @Test func aDiskWithoutAnESPNeedsTheDirectoryGiven() throws {
        try TestDisk.with(.imageFile) { testDisk in
            var (disk, paths) = try Self.fixture(testDisk, mountinfo: "")
            disk.partitions.removeAll { $0.typeGUID == ESPLocator.espType }
            let error = try #require(throws: SlotError.self) {
                try ESPLocator(paths: paths).locate(configured: nil, on: disk, for: .grubEnv)
            }
            #expect("\(error)".contains("has no EFI system partition") && "\(error)".contains("--esp"), "\(error)")
        }
    }

    @Test func anImageFileHasNoMountedESP() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let error = try #require(throws: SlotError.self) {
                try ESPLocator().locate(configured: nil, on: try Disk.probe(testDisk.path), for: .grubEnv)
            }
            #expect("\(error)".contains("cannot be mounted from a disk-image file; mount it or pass --esp"), "\(error)")
        }
    }

    @Test func aGivenDirectoryWinsAndMustBeADirectory() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let disk = try Disk.probe(testDisk.path)
            let directory = testDisk.directory.path
            #expect(try ESPLocator().locate(configured: directory, on: disk, for: .grubEnv) == directory)
            for wrong in [testDisk.path, directory + "/absent", ""] {
                let error = try #require(throws: SlotError.self) {
                    try ESPLocator().locate(configured: wrong, on: disk, for: .grubEnv)
                }
                #expect(error == .bootBackend(.notConfigured(backend: .grubEnv, detail: "the ESP given (ESP= in [Slots], or --esp) "
                    + "\(wrong) is not a directory; give the directory the ESP (or /boot) is mounted at")))
            }
        }
    }

    /// grub-env and systemd-boot cannot run without their ESP; gptprio runs without one.
    @Test func onlyTheESPBackendsRequireAnESP() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            #expect(throws: SlotError.self) { try BootBackendSettings(kind: .grubEnv).resolvingESP(for: pair) }
            #expect(throws: SlotError.self) { try BootBackendSettings(kind: .systemdBoot).resolvingESP(for: pair) }
            #expect(try BootBackendSettings(kind: .gptprio).resolvingESP(for: pair).esp == nil)
            let given = BootBackendSettings(kind: .grubEnv, esp: testDisk.directory.path)
            #expect(try given.resolvingESP(for: pair) == given)
            // gptprio opens, and reads the GPT bits exactly as the disk holds them.
            let backend = try BootBackendSettings().open(for: pair, readOnly: true)
            #expect(backend.kind == .gptprio)
            #expect(try backend.read(pair).table[3] == BootAttributes(priority: 1, tries: 0, successful: true))
        }
    }
}
