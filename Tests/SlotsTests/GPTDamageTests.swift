import Foundation
@testable import Slots
import Testing
import TestSupport

/// One damaged copy is repaired from the other and reported; two damaged copies, or no GPT,
/// are refused with nothing written. Partition contents never change.
@Suite(.serialized)
struct GPTDamageTests {
    enum Damage: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case primaryHeader = "primary header"
        case primaryEntries = "primary entry array"
        case backupHeader = "backup header"
        case backupEntries = "backup entry array"
        var testDescription: String { rawValue }

        func apply(to disk: TestDisk) throws {
            let sector = UInt64(disk.sectorSize)
            let size = try disk.sizeInBytes
            switch self {
            case .primaryHeader: try disk.corrupt(at: sector + 40)
            case .primaryEntries: try disk.corrupt(at: 2 * sector + 60)
            case .backupHeader: try disk.corrupt(at: size - sector + 40)
            // The backup entries end right before the backup header; hit the first entry's name.
            case .backupEntries: try disk.corrupt(at: size - sector - 16384 + 60)
            }
        }

        var expectedProblem: GPTProblem {
            switch self {
            case .primaryHeader: .primaryDamaged("bad header CRC")
            case .primaryEntries: .primaryDamaged("bad partition-entry array CRC")
            case .backupHeader: .backupDamaged("bad header CRC")
            case .backupEntries: .backupDamaged("bad partition-entry array CRC")
            }
        }
    }

    @Test(arguments: DiskKind.allCases, Damage.allCases)
    func oneDamagedCopyIsRepairedFromTheOther(_ kind: DiskKind, _ damage: Damage) throws {
        try TestDisk.with(kind) { testDisk in
            let pristine = try testDisk.snapshot()
            try damage.apply(to: testDisk)
            let disk = try Disk.probe(testDisk.path)
            #expect(try disk.tableProblems() == [damage.expectedProblem])
            #expect(disk.partitions.count == 6, "the good copy still lists every partition")

            let change = try BootControl(pair: try SlotPair(disk: disk)).setTrial(.b)
            #expect(change.repaired == [.gpt(damage.expectedProblem)], "the repair is reported")
            try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 1, false))
            #expect(try Disk.probe(testDisk.path).tableProblems().isEmpty)
            #expect(try testDisk.partitionContentsEqual(pristine))
        }
    }

    @Test(arguments: DiskKind.allCases)
    func repairAloneRewritesTheDamagedCopy(_ kind: DiskKind) throws {
        try TestDisk.with(kind) { testDisk in
            try Damage.backupHeader.apply(to: testDisk)
            let control = try BootControl(pair: try SlotPair(disk: try Disk.probe(testDisk.path)))
            #expect(try control.repair() == [.gpt(Damage.backupHeader.expectedProblem)])
            #expect(try testDisk.sgdiskVerifies().clean)
            #expect(try control.repair().isEmpty, "a sound table needs no second repair")
        }
    }

    @Test(arguments: DiskKind.allCases)
    func bothCopiesDamagedIsRefusedAndNothingIsWritten(_ kind: DiskKind) throws {
        try TestDisk.with(kind) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            try Damage.primaryHeader.apply(to: testDisk)
            try Damage.backupEntries.apply(to: testDisk)
            let damaged = try testDisk.snapshot()
            #expect {
                try BootControl(pair: pair).setTrial(.b)
            } throws: { error in
                guard case let SlotError.bothTablesDamaged(disk, primary, backup) = error else { return false }
                return disk == testDisk.path && primary == "bad header CRC" && backup == "bad partition-entry array CRC"
                    && "\(error)".contains("nothing was written")
            }
            #expect(throws: SlotError.self) { try Disk.probe(testDisk.path) }
            #expect(try testDisk.identical(to: damaged))
        }
    }

    /// A disk cut short loses its backup GPT. Tandem rebuilds it at the new end when no
    /// partition reaches that far, and refuses otherwise.
    @Test func aTruncatedDiskGetsItsBackupRebuiltAtTheNewEnd() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let pristine = try testDisk.snapshot()
            try Shell.run(["truncate", "-s", "60M", testDisk.path])
            let disk = try Disk.probe(testDisk.path)
            guard case .backupDamaged(let reason) = try #require(try disk.tableProblems().first) else {
                Issue.record("expected a missing backup")
                return
            }
            #expect(reason.contains("disk has only"))
            try BootControl(pair: try SlotPair(disk: disk)).setTrial(.b)
            try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 1, false))
            #expect(try testDisk.partitionContentsEqual(pristine))
        }
    }

    @Test func aTruncationIntoAPartitionIsRefused() throws {
        try TestDisk.with(.imageFile) { testDisk in
            // ROOT (partition 9) ends at 38 MiB; cut the disk just past it.
            let root = try #require(try testDisk.sfdiskPartitions().first { $0.number == 9 })
            let rootEnd = (root.start + root.size) * 512
            try Shell.run(["truncate", "-s", "\(rootEnd + 4096)", testDisk.path])
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            let truncated = try testDisk.snapshot()
            #expect {
                try BootControl(pair: pair).setTrial(.b)
            } throws: { error in
                guard case SlotError.cannotRelocateBackup(_, let detail) = error else { return false }
                return detail.contains("partition 9")
            }
            #expect(try testDisk.identical(to: truncated))
        }
    }

    @Test func aGrownDiskGetsItsBackupMovedToTheEnd() throws {
        try TestDisk.with(.imageFile) { testDisk in
            try Shell.run(["truncate", "-s", "80M", testDisk.path])
            let disk = try Disk.probe(testDisk.path)
            #expect(try disk.tableProblems() == [.backupMisplaced(lba: 64 * 2048 - 1, expected: 80 * 2048 - 1)])
            try BootControl(pair: try SlotPair(disk: disk)).setTrial(.b)
            try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 1, false))
        }
    }

    @Test func aDiskWithoutGPTIsRefused() throws {
        try TestDisk.with(.imageFile) { testDisk in
            try Shell.run(["sgdisk", "--zap-all", testDisk.path])
            let zapped = try testDisk.snapshot()
            #expect(throws: SlotError.notGPT(disk: testDisk.path, found: nil)) { try Disk.probe(testDisk.path) }
            try Shell.run(["sh", "-c", "echo ',,83' | sfdisk --quiet \(testDisk.path)"])
            #expect(throws: SlotError.notGPT(disk: testDisk.path, found: "dos")) { try Disk.probe(testDisk.path) }
            #expect(try !testDisk.identical(to: zapped), "sfdisk wrote an MBR")
        }
    }
}
