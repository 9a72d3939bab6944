import Foundation
import Slots
import Testing
import TestSupport

/// `tandem.slot=a|b` on the kernel command line, as grub-env, systemd-boot and custom setups
/// pass it: it names the slot, the disk comes from the configuration or the slots' labels.
@Suite(.serialized)
struct NamedSlotTests {
    /// A proc directory holding only `cmdline`: no mount table, so only the command line speaks.
    static func proc(in disk: TestDisk, _ cmdline: String) throws -> SystemPaths {
        let proc = disk.directory.appendingPathComponent("proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try cmdline.write(to: proc.appendingPathComponent("cmdline"), atomically: true, encoding: .utf8)
        return SystemPaths(proc: proc.path)
    }

    @Test(arguments: ["tandem.slot=b", "quiet tandem.slot=B console=ttyS0\n", "tandem.slot=a tandem.slot=b"])
    func theNamedSlotOnTheConfiguredDisk(_ cmdline: String) throws {
        try TestDisk.with(.imageFile) { disk in
            let booted = try BootedSlot.locate(disk: disk.path, paths: try Self.proc(in: disk, cmdline))
            #expect(booted.slot.name == .b && booted.slot.partition.number == 4)
            #expect(booted.evidence.hasPrefix("kernel command line tandem.slot="), "\(booted.evidence)")
        }
    }

    @Test(arguments: ["tandem.slot=c", "tandem.slot=", "tandem.slot=ab", "tandem.slot=1", "tandem.slot=\"a b\"",
                      "tandem.slot=" + String(repeating: "Z", count: 5000), "tandem.slot=\u{0}a"])
    func aSlotNameThatIsNoSlotIsRefused(_ cmdline: String) throws {
        try TestDisk.with(.imageFile) { disk in
            let error = try #require(throws: SlotError.self) {
                try BootedSlot.locate(disk: disk.path, paths: try Self.proc(in: disk, cmdline))
            }
            guard case let .bootedSlotUnknown(detail) = error else {
                Issue.record("expected bootedSlotUnknown, got \(error)")
                return
            }
            #expect(detail.contains("names no slot; it must be a or b") && detail.count < 300, "\(detail)")
        }
    }

    @Test(arguments: ["usr=PARTUUID=not-a-uuid tandem.slot=a", "mount.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f13Z"])
    func aGarbageUUIDIsRefusedEvenBesideASlotName(_ cmdline: String) throws {
        try TestDisk.with(.imageFile) { disk in
            let error = try #require(throws: SlotError.self) {
                try BootedSlot.locate(disk: disk.path, paths: try Self.proc(in: disk, cmdline))
            }
            #expect("\(error)".contains("is not a valid partition UUID"), "\(error)")
        }
    }

    /// Every backend passes both forms; they must agree, and do when the bootloader is right.
    @Test func theSlotNameAndThePartitionMustAgree() throws {
        let uuid = UUID().uuidString.lowercased()
        let labelA = "NA-\(UUID().uuidString.prefix(6))", labelB = "NB-\(UUID().uuidString.prefix(6))"
        try TestDisk.with(.loopDevice, extraSgdisk: ["-u", "4:\(uuid)", "-c", "3:\(labelA)", "-c", "4:\(labelB)"]) { disk in
            let layout = SlotLayout(labelA: labelA, labelB: labelB)
            let agreeing = try BootedSlot.locate(layout: layout, paths: try Self.proc(in: disk, "mount.usr=PARTUUID=\(uuid) tandem.slot=b"))
            #expect(agreeing.slot.name == .b)
            let error = try #require(throws: SlotError.self) {
                try BootedSlot.locate(layout: layout, paths: try Self.proc(in: disk, "mount.usr=PARTUUID=\(uuid) tandem.slot=a"))
            }
            #expect("\(error)".contains("tandem.slot=a contradicts kernel command line mount.usr=PARTUUID=\(uuid), which is slot B"),
                    "\(error)")
            // Without Disk=, the slot name alone finds the one disk holding both labels.
            let named = try BootedSlot.locate(layout: layout, paths: try Self.proc(in: disk, "tandem.slot=a"))
            let loop = try #require(disk.loopDevice)
            #expect(named.slot.name == .a && named.pair.disk.path == "/dev/" + URL(fileURLWithPath: loop).lastPathComponent)
            let nowhere = try #require(throws: SlotError.self) {
                try BootedSlot.locate(layout: SlotLayout(labelA: "NONE-\(uuid.prefix(8))", labelB: "NONE-B"),
                                      paths: try Self.proc(in: disk, "tandem.slot=a"))
            }
            #expect("\(nowhere)".contains("no disk holds partitions labelled") && "\(nowhere)".contains("set Disk="), "\(nowhere)")
        }
    }
}
