import Foundation
import Slots
import Testing
import TestSupport

@Suite struct SlotPairTests {
    static let usr = TestDisk.usrType

    @Test func aMissingSlotIsNamed() throws {
        try TestDisk.with(.imageFile, extraSgdisk: ["-d", "4"]) { testDisk in
            #expect(throws: SlotError.slotMissing(disk: testDisk.path, label: "USR-B")) {
                try SlotPair(disk: try Disk.probe(testDisk.path))
            }
        }
    }

    @Test func aDuplicateLabelNamesBothPartitions() throws {
        try TestDisk.with(.imageFile, extraSgdisk: ["-c", "6:USR-A"]) { testDisk in
            #expect(throws: SlotError.duplicateLabel(disk: testDisk.path, label: "USR-A", partitions: [3, 6])) {
                try SlotPair(disk: try Disk.probe(testDisk.path))
            }
        }
    }

    @Test func aSlotOfTheWrongTypeSaysHowToFixIt() throws {
        try TestDisk.with(.imageFile, extraSgdisk: ["-t", "4:0fc63daf-8483-4772-8e79-3d69d8477de4"]) { testDisk in
            #expect {
                try SlotPair(disk: try Disk.probe(testDisk.path))
            } throws: { error in
                guard case SlotError.wrongSlotType(_, 4, "USR-B", _, .flatcarUsr) = error else { return false }
                return "\(error)".contains("sgdisk -t 4:\(Self.usr) \(testDisk.path)")
            }
        }
    }

    @Test func aSlotBelowTheMinimumSizeIsRefused() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let layout = SlotLayout(minimumSize: 32 << 20)
            #expect(throws: SlotError.slotTooSmall(disk: testDisk.path, partition: 3, label: "USR-A",
                                                   size: UInt64(TestDisk.slotMiB) << 20, minimum: 32 << 20)) {
                try SlotPair(disk: try Disk.probe(testDisk.path), layout: layout)
            }
        }
    }

    @Test func labelsAreConfigurable() throws {
        try TestDisk.with(.imageFile, extraSgdisk: ["-c", "3:ROOT-A", "-c", "4:ROOT-B"]) { testDisk in
            let disk = try Disk.probe(testDisk.path)
            #expect(throws: SlotError.self) { try SlotPair(disk: disk) }
            let pair = try SlotPair(disk: disk, layout: SlotLayout(labelA: "ROOT-A", labelB: "ROOT-B"))
            #expect(pair.a.partition.number == 3 && pair.b.partition.label == "ROOT-B")
        }
    }

    @Test func selectorsAcceptNamesLabelsAndNumbers() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            #expect(try pair.resolve("a").name == .a)
            #expect(try pair.resolve("B").name == .b)
            #expect(try pair.resolve("USR-B").name == .b)
            #expect(try pair.resolve("3").name == .a)
            #expect(throws: SlotError.notAUsrPartition(disk: testDisk.path, partition: 6)) { try pair.resolve("6") }
            #expect(throws: SlotError.unknownSlot(disk: testDisk.path, selector: "C")) { try pair.resolve("C") }
        }
    }

    @Test func aConfiguredBootedSlotNeedsNoDetection() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let booted = try BootedSlot.locate(disk: testDisk.path, bootedSlot: "B")
            #expect(booted.slot.name == .b && booted.evidence == "configured")
        }
    }
}
