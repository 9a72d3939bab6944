import Foundation
import Slots
import Testing
import TestSupport

/// Detection against the real kernel: a loop-device slot mounted as "/usr", and a kernel
/// command line naming a slot by PARTUUID or PARTLABEL that is found by probing every disk.
@Suite(.serialized)
struct BootedPartitionTests {
    /// A proc directory with a chosen command line and the real mount table.
    static func procDirectory(in disk: TestDisk, cmdline: String) throws -> String {
        let proc = disk.directory.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: proc.appendingPathComponent("self"), withIntermediateDirectories: true)
        try cmdline.write(to: proc.appendingPathComponent("cmdline"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: proc.appendingPathComponent("self/mountinfo").path, withDestinationPath: "/proc/self/mountinfo")
        return proc.path
    }

    @Test func theDeviceBehindAMountedSlotIsFound() throws {
        try TestDisk.with(.loopDevice) { testDisk in
            let loop = try #require(testDisk.loopDevice)
            try testDisk.withMountedPartition(4) { mountPoint in
                let paths = SystemPaths(proc: try Self.procDirectory(in: testDisk, cmdline: "quiet"), usrMountPoint: mountPoint)
                let found = try BootedPartitionDetector(paths: paths).detect()
                #expect(found.disk == loop && found.number == 4)
                #expect(found.evidence.contains("mounted at \(mountPoint)"))

                let booted = try BootedSlot.locate(paths: paths)
                #expect(booted.slot.name == .b && booted.pair.disk.path == loop)
                #expect(throws: SlotError.self) { try BootedSlot.locate(disk: "/dev/null", paths: paths) }
            }
        }
    }

    @Test func theCommandLineNamesTheSlotByUUIDOrLabel() throws {
        let uuid = UUID().uuidString.lowercased()
        let label = "USR-B-\(UUID().uuidString.prefix(6))"
        try TestDisk.with(.loopDevice, extraSgdisk: ["-u", "4:\(uuid)", "-c", "4:\(label)"]) { testDisk in
            let loop = try #require(testDisk.loopDevice)
            let layout = SlotLayout(labelB: label)
            for cmdline in ["mount.usr=/dev/mapper/usr verity.usr=PARTUUID=\(uuid.uppercased()) rootflags=rw",
                            "usr=PARTLABEL=\(label)", "mount.usr=/dev/disk/by-partuuid/\(uuid)"] {
                let paths = SystemPaths(proc: try Self.procDirectory(in: testDisk, cmdline: cmdline))
                let booted = try BootedSlot.locate(layout: layout, paths: paths)
                #expect(booted.pair.disk.path == "/dev/" + URL(fileURLWithPath: loop).lastPathComponent)
                #expect(booted.slot.name == .b, "\(cmdline)")
                #expect(booted.evidence.hasPrefix("kernel command line"))
                try FileManager.default.removeItem(atPath: paths.proc)
            }
        }
    }
}
