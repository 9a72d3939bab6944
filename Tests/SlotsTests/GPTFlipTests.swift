import Foundation
import Slots
import Testing
import TestSupport

/// Flips on real GPT disks made by sgdisk, judged by sgdisk and sfdisk. Loop devices (512-byte
/// and 4K sectors) run one at a time.
@Suite(.serialized)
struct GPTFlipTests {
    @Test(arguments: DiskKind.allCases)
    func probingMatchesSfdisk(_ kind: DiskKind) throws {
        try TestDisk.with(kind) { testDisk in
            let disk = try Disk.probe(testDisk.path)
            let oracle = try testDisk.sfdiskPartitions()
            #expect(disk.sectorSize == kind.sectorSize)
            #expect(disk.partitions.map(\.number) == [1, 2, 3, 4, 6, 9])
            #expect(disk.partitions.map(\.number) == oracle.map(\.number))
            for (partition, expected) in zip(disk.partitions, oracle) {
                #expect(partition.label == expected.name)
                #expect(partition.typeGUID.description == expected.type)
                #expect(partition.uniqueGUID.description == expected.uuid)
                #expect(partition.firstLBA == expected.start)
                #expect(partition.sizeInBytes == expected.size * UInt64(kind.sectorSize))
                #expect(partition.attributes.rawValue == (try testDisk.sgdiskAttributes(partition.number)))
            }
            let pair = try SlotPair(disk: disk)
            #expect(pair.a.partition.number == 3 && pair.b.partition.number == 4)
            #expect(pair.a.partition.uniqueGUID.description == TestDisk.usrAUUID)
            #expect(pair.a.partition.attributes == BootAttributes(priority: 1, tries: 0, successful: true))
            #expect(try disk.tableProblems().isEmpty)
        }
    }

    @Test(arguments: DiskKind.allCases)
    func flipsLandInBothCopiesAndPreserveEverythingElse(_ kind: DiskKind) throws {
        try TestDisk.with(kind) { testDisk in
            let before = try testDisk.snapshot()
            let oemBits = try testDisk.sgdiskShownBits(6)
            let control = try BootControl(pair: try SlotPair(disk: try Disk.probe(testDisk.path)))

            let invalidated = try control.invalidate(.b)
            #expect(!invalidated.written, "B starts unbootable, so invalidating it changes nothing")

            try control.setTrial(.b, tries: 1)
            try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 1, false))

            let boot = try control.nextBoot(commit: true)
            #expect(boot.slot.name == .b && boot.consumesTry)
            try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 0, false))

            try control.markGood(.b)
            try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 0, true))

            try control.prioritize(.a)
            try expectFlags(on: testDisk, a: (2, 0, true), b: (1, 0, true))

            try control.markBad(.a)
            try expectFlags(on: testDisk, a: (0, 0, false), b: (1, 0, true))
            #expect(try control.nextBoot(commit: false).slot.name == .b)

            #expect(try testDisk.sgdiskShownBits(6) == oemBits, "a bit outside the boot fields must survive")
            #expect(oemBits == [2])
            #expect(try testDisk.partitionContentsEqual(before))
        }
    }

    @Test(arguments: DiskKind.allCases)
    func noBootableSlotIsALoudError(_ kind: DiskKind) throws {
        try TestDisk.with(kind) { testDisk in
            let control = try BootControl(pair: try SlotPair(disk: try Disk.probe(testDisk.path)))
            try control.markBad(.a)
            let before = try testDisk.snapshot()
            #expect {
                try control.nextBoot(commit: true)
            } throws: { error in
                guard case SlotError.noBootableSlot(let disk) = error else { return false }
                return disk == testDisk.path && "\(error)".contains("bootloader will stop")
            }
            #expect(try testDisk.identical(to: before))
        }
    }
}

/// Checks A (partition 3) and B (partition 4) with three independent readers: sgdisk -i,
/// sgdisk -A show and sfdisk --json, and that sgdisk -v finds both copies and CRCs sound.
func expectFlags(on disk: TestDisk, a: (UInt8, UInt8, Bool), b: (UInt8, UInt8, Bool),
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    let sfdisk = try disk.sfdiskPartitions()
    for (number, flags) in [(3, a), (4, b)] {
        let expected = BootAttributes(priority: flags.0, tries: flags.1, successful: flags.2)
        #expect(try disk.sgdiskAttributes(number) == expected.rawValue, "sgdisk -i \(number)", sourceLocation: sourceLocation)
        let bits = Set((0..<64).filter { expected.rawValue & (1 << UInt64($0)) != 0 })
        #expect(try disk.sgdiskShownBits(number) == bits, "sgdisk -A \(number):show", sourceLocation: sourceLocation)
        #expect(sfdisk.first { $0.number == number }?.attributeBits == bits, "sfdisk --json", sourceLocation: sourceLocation)
    }
    let verdict = try disk.sgdiskVerifies()
    #expect(verdict.clean, "sgdisk -v: \(verdict.report)", sourceLocation: sourceLocation)
}
