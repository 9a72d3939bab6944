import Foundation
@testable import Slots
import Testing
import TestSupport

/// Crafted GPTs with valid CRCs, each of which made updatectl and tandemd trap (SIGILL) before:
/// each now reads as a damaged copy, repaired from the other when that one is sound, or is
/// refused with an error. The test process itself is the crash detector.
@Suite(.serialized)
struct HostileGPTTests {
    /// USR-B on TestDisk's layout: partition 4, LBA 45056–77823.
    static let slotB = 4

    /// Builds a Flatcar-layout image file, applies `edit`, recomputes every CRC, and runs `body`.
    static func withCraftedDisk(_ edit: (inout GPTImage) -> Void, _ body: (TestDisk) throws -> Void) throws {
        try TestDisk.with(.imageFile) { testDisk in
            try GPTImage.edit(testDisk.path, edit)
            try body(testDisk)
        }
    }

    /// Everything updatectl does with a disk, none of which may trap; returns the first error.
    static func exerciseEverything(_ path: String) -> [String] {
        var errors: [String] = []
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { errors.append("\(error)") }
        }
        attempt { _ = try Disk.probe(path).tableProblems() }
        attempt { _ = try BootControl(pair: try SlotPair(disk: try Disk.probe(path))).nextBoot(commit: true) }
        attempt { try BootControl(pair: try SlotPair(disk: try Disk.probe(path))).markBad(.b) }
        attempt { _ = try BootControl(pair: try SlotPair(disk: try Disk.probe(path))).repair() }
        return errors
    }

    @Test func anEntryThatEndsBeforeItStartsIsRefusedAsASlot() throws {
        try Self.withCraftedDisk({ $0.set(entry: Self.slotB, .lastLBA, 45056 - 1000) }) { testDisk in
            let disk = try Disk.probe(testDisk.path)
            #expect(disk.partition(number: Self.slotB)?.sizeInBytes == 0, "listed from the entry, not libblkid's negative size")
            let inverted = PartitionExtent(number: 4, label: "USR-B", range: LBARange(first: 45056, last: 44056))
            #expect(throws: SlotError.unsafeSlotGeometry(disk: testDisk.path, violations: [.inverted(inverted)])) {
                try SlotPair(disk: disk)
            }
            let unchanged = try testDisk.snapshot()
            #expect(Self.exerciseEverything(testDisk.path).count == 3)
            #expect(try testDisk.identical(to: unchanged))
        }
    }

    @Test func aFirstLBAPast2To63IsRefusedAsASlot() throws {
        try Self.withCraftedDisk({ $0.set(entry: Self.slotB, .firstLBA, 1 << 63) }) { testDisk in
            #expect {
                try SlotPair(disk: try Disk.probe(testDisk.path))
            } throws: { error in
                guard case let SlotError.unsafeSlotGeometry(_, violations) = error else { return false }
                return violations.contains(.inverted(PartitionExtent(number: 4, label: "USR-B", range: LBARange(first: 1 << 63, last: 77823))))
            }
            let unchanged = try testDisk.snapshot()
            _ = Self.exerciseEverything(testDisk.path)
            #expect(try testDisk.identical(to: unchanged))
        }
    }

    @Test func anEntryPastTheEndOfTheDiskIsRefusedAsASlot() throws {
        try Self.withCraftedDisk({ $0.set(entry: Self.slotB, .lastLBA, UInt64.max) }) { testDisk in
            #expect {
                try SlotPair(disk: try Disk.probe(testDisk.path))
            } throws: { error in
                guard case let SlotError.unsafeSlotGeometry(_, violations) = error else { return false }
                return violations.contains { if case .beyondEndOfDisk = $0 { true } else { false } }
            }
        }
    }

    /// The primary's last usable LBA is absurd, the backup is sound: the primary counts as
    /// damaged and is rebuilt from the backup, exactly as for a bad CRC.
    @Test func anAbsurdPrimaryIsRepairedFromASoundBackup() throws {
        try Self.withCraftedDisk({ $0[.primary, .lastUsableLBA] = UInt64.max }) { testDisk in
            let disk = try Disk.probe(testDisk.path)
            let problems = try disk.tableProblems()
            #expect(problems == [.primaryDamaged(
                "invalid header: usable area LBA 34–18446744073709551615 includes the other copy's header (LBA 131071)")])
            let control = try BootControl(pair: try SlotPair(disk: disk))
            #expect(try control.repair() == problems.map { .gpt($0) })
            #expect(try testDisk.sgdiskVerifies().clean)
            #expect(try Disk.probe(testDisk.path).tableProblems().isEmpty)
        }
    }

    /// The absurd primary also puts B over A; libblkid may still list from it, but the backup
    /// is the copy in use, so the slots are the backup's and the repair goes ahead.
    @Test func anAbsurdPrimaryWithOtherEntriesIsStillRepairedFromTheBackup() throws {
        try Self.withCraftedDisk({ image in
            image[.primary, .lastUsableLBA] = UInt64.max
            image[.primary, entry: Self.slotB, .firstLBA] = 13288
        }) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            #expect(pair.b.partition.firstLBA == 45056)
            #expect(try BootControl(pair: pair).repair().count == 1)
            #expect(try testDisk.sgdiskVerifies().clean)
            #expect(try testDisk.sfdiskPartitions().first { $0.number == Self.slotB }?.start == 45056)
        }
    }

    @Test(arguments: [
        (GPTImage.HeaderField.entryCount, UInt64(0xFFFF_FFFF), "entry array of 4294967295 × 128 bytes is not plausible"),
        (.entriesLBA, UInt64.max - 1, "entry array at LBA 18446744073709551614 runs past the largest LBA"),
        (.alternateLBA, 40, "usable area LBA 34–131038 includes the other copy's header (LBA 40)"),
        (.firstUsableLBA, 1, "usable area LBA 1–131038 includes this header (LBA 1)"),
        (.firstUsableLBA, 20, "usable area LBA 20–131038 includes the entry array (LBA 2–33)"),
        (.lastUsableLBA, 32, "usable area LBA 34–32 ends before it starts"),
    ])
    func anAbsurdPrimaryFieldIsDamage(_ field: GPTImage.HeaderField, _ value: UInt64, _ reason: String) throws {
        try Self.withCraftedDisk({ $0[.primary, field] = value }) { testDisk in
            let problems = try Disk.probe(testDisk.path).tableProblems()
            guard case let .primaryDamaged(detail) = try #require(problems.first) else {
                Issue.record("expected a damaged primary, got \(problems)")
                return
            }
            #expect(detail.contains(reason), "\(detail)")
            _ = try BootControl(pair: try SlotPair(disk: try Disk.probe(testDisk.path))).repair()
            #expect(try testDisk.sgdiskVerifies().clean)
        }
    }

    /// 0xFFFFFFFF entries of 0xFFFFFFF8 bytes overflowed an Int multiplication; in both copies
    /// the disk is refused, with nothing written.
    @Test func anOverflowingEntryArrayInBothCopiesIsRefused() throws {
        try Self.withCraftedDisk({ image in
            image.set(.entryCount, 0xFFFF_FFFF)
            image.set(.entrySize, 0xFFFF_FFF8)
        }) { testDisk in
            let unchanged = try testDisk.snapshot()
            #expect {
                try Disk.probe(testDisk.path)
            } throws: { error in
                guard case let SlotError.bothTablesDamaged(_, primary, backup) = error else { return false }
                return primary.contains("not plausible") && backup.contains("not plausible")
            }
            #expect(Self.exerciseEverything(testDisk.path).count == 4)
            #expect(try testDisk.identical(to: unchanged))
        }
    }

    /// 120 entries of 136 bytes: libblkid rejects the table, Tandem's reader reads it, and the
    /// entries it finds (misaligned, with garbage ranges) reach the listing without trapping.
    @Test func oddEntrySizesReachTheFallbackListingWithoutTrapping() throws {
        try Self.withCraftedDisk({ image in
            image.set(.entryCount, 120)
            image.set(.entrySize, 136)
            // Garbage where the misaligned entries read their ranges.
            for number in 1...8 {
                image.set(entry: number, .attributes, 0xFFFF_FFFF_FFFF_FFF0 &- UInt64(number))
            }
        }) { testDisk in
            let unchanged = try testDisk.snapshot()
            let disk = try Disk.probe(testDisk.path)
            #expect(!disk.partitions.isEmpty)
            #expect(throws: SlotError.self) { try SlotPair(disk: disk) }
            _ = Self.exerciseEverything(testDisk.path)
            #expect(try testDisk.identical(to: unchanged))
        }
    }

    /// The primary is gone and the sound backup declares a usable area from LBA 20, where a
    /// rebuilt primary's entry array (LBA 2–33) would land. The refusal used to blame the
    /// backup and advise restoring the disk's size; it now says which copy cannot be rebuilt
    /// and why, and the disk is left as it was.
    @Test func aPrimaryThatCannotBeRebuiltIsNamedAsSuch() throws {
        try Self.withCraftedDisk({ $0[.backup, .firstUsableLBA] = 20 }) { testDisk in
            try testDisk.corrupt(at: 512, count: 512)
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            let damaged = try testDisk.snapshot()
            #expect {
                try BootControl(pair: pair).setTrial(.b)
            } throws: { error in
                let text = "\(error)"
                return error as? SlotError == .cannotRebuildPrimary(
                    disk: testDisk.path, detail: "its entry array (LBA 2–33) would overlap the usable area, which starts at LBA 20")
                    && !text.contains("backup GPT") && text.contains("the partition table was not changed")
            }
            #expect(try testDisk.identical(to: damaged))
        }
    }
}
