import Foundation
@testable import Slots
import Testing
import TestSupport

/// Each geometry rule on its own (pure), then the variants of the overlapping-slot finding on
/// crafted disks through the library: refused at probe time and again at write time.
struct SlotGeometryTests {
    /// TestDisk's layout in miniature: 131072 sectors, usable 34–131038, the GPT at 0–33 and
    /// 131039–131071; EFI 2048–10239, A 12288–45055, B 45056–77823, ROOT 86016–102399.
    static let geometry = DiskGeometry(
        sectorCount: 131_072, usableArea: LBARange(first: 34, last: 131_038),
        gptAreas: [
            GPTArea(.protectiveMBR, LBARange(first: 0, last: 0)),
            GPTArea(.primaryHeader, LBARange(first: 1, last: 1)),
            GPTArea(.primaryEntries, LBARange(first: 2, last: 33)),
            GPTArea(.backupEntries, LBARange(first: 131_039, last: 131_070)),
            GPTArea(.backupHeader, LBARange(first: 131_071, last: 131_071)),
        ],
        entries: [
            PartitionExtent(number: 1, label: "EFI-SYSTEM", range: LBARange(first: 2048, last: 10239)),
            PartitionExtent(number: 3, label: "USR-A", range: LBARange(first: 12288, last: 45055)),
            PartitionExtent(number: 4, label: "USR-B", range: LBARange(first: 45056, last: 77823)),
            PartitionExtent(number: 9, label: "ROOT", range: LBARange(first: 86016, last: 102_399)),
        ])

    /// The geometry with slot B moved to `range`, and the two slots as libblkid would list them.
    static func violations(b range: LBARange, usable: LBARange? = nil, sectorCount: UInt64? = nil) -> [GeometryViolation] {
        var geometry = geometry
        geometry.entries[2].range = range
        if let usable { geometry.usableArea = usable }
        if let sectorCount { geometry.sectorCount = sectorCount }
        let slots = geometry.entries[1...2].map { entry in
            Partition(number: entry.number, label: entry.label, typeGUID: .flatcarUsr, uniqueGUID: .zero,
                      firstLBA: entry.range.first, sizeInBytes: (entry.range.count ?? 0) * 512, attributes: BootAttributes(rawValue: 0))
        }
        return SlotGeometry.violations(slots: slots, geometry: geometry, sectorSize: 512)
    }

    static func b(_ first: UInt64, _ last: UInt64) -> PartitionExtent {
        PartitionExtent(number: 4, label: "USR-B", range: LBARange(first: first, last: last))
    }

    static let a = PartitionExtent(number: 3, label: "USR-A", range: LBARange(first: 12288, last: 45055))

    @Test func theFlatcarLayoutIsSafe() {
        #expect(Self.violations(b: LBARange(first: 45056, last: 77823)).isEmpty)
    }

    @Test func rule2ASlotMustNotEndBeforeItStarts() {
        #expect(Self.violations(b: LBARange(first: 77823, last: 45056)) == [.inverted(Self.b(77823, 45056))])
    }

    @Test func rule3ASlotMustFitTheDisk() {
        #expect(Self.violations(b: LBARange(first: 45056, last: 77823), usable: LBARange(first: 34, last: 200_000), sectorCount: 60000)
            == [.beyondEndOfDisk(Self.b(45056, 77823), sectorCount: 60000)])
    }

    @Test func rule4ASlotMustLieInTheUsableArea() {
        let usable = LBARange(first: 34, last: 70000)
        #expect(Self.violations(b: LBARange(first: 45056, last: 77823), usable: usable)
            == [.outsideUsableArea(Self.b(45056, 77823), usableArea: usable)])
    }

    @Test func rule5TheSlotsMustNotOverlap() {
        #expect(Self.violations(b: LBARange(first: 13288, last: 77823)) == [.overlapsOtherSlot(Self.a, Self.b(13288, 77823))])
        #expect(Self.violations(b: LBARange(first: 12288, last: 45055)) == [.overlapsOtherSlot(Self.a, Self.b(12288, 45055))])
    }

    @Test func rule5ASlotMustNotOverlapAnyOtherPartition() {
        let root = Self.geometry.entries[3]
        #expect(Self.violations(b: LBARange(first: 80000, last: 90000)) == [.overlapsPartition(slot: Self.b(80000, 90000), other: root)])
    }

    @Test func rule5ASlotMustNotOverlapTheGPTOrTheMBR() {
        let onTheTable = Self.violations(b: LBARange(first: 0, last: 2000), usable: LBARange(first: 0, last: 131_038))
        #expect(onTheTable == Self.geometry.gptAreas[0...2].map { .overlapsGPT(Self.b(0, 2000), $0) })
        let onTheBackup = Self.violations(b: LBARange(first: 131_000, last: 131_071), usable: LBARange(first: 34, last: 131_071))
        #expect(onTheBackup == Self.geometry.gptAreas[3...4].map { .overlapsGPT(Self.b(131_000, 131_071), $0) })
    }

    @Test func wholeDiskSlotBreaksEveryRuleAndSaysSo() {
        let violations = Self.violations(b: LBARange(first: 0, last: 131_071))
        #expect(violations.count == 1 + 1 + 2 + 5)
        let text = SlotError.unsafeSlotGeometry(disk: "/dev/vda", violations: violations).description
        #expect(text.contains("partition 4 (USR-B, LBA 0–131071) is not inside the usable area the GPT header declares (LBA 34–131038)"))
        #expect(text.contains("partition 3 (USR-A, LBA 12288–45055) and partition 4 (USR-B, LBA 0–131071), the two slots, overlap"))
        #expect(text.contains("partition 4 (USR-B, LBA 0–131071) overlaps partition 1 (EFI-SYSTEM, LBA 2048–10239)"))
        #expect(text.contains("partition 4 (USR-B, LBA 0–131071) overlaps the protective MBR (LBA 0)"))
        #expect(text.contains("Tandem writes nothing to this disk"))
    }

    @Test func aListingThatDisagreesWithTheTableIsRefused() {
        var slotB = Partition(number: 4, label: "USR-B", typeGUID: .flatcarUsr, uniqueGUID: .zero,
                              firstLBA: 45056, sizeInBytes: 1 << 20, attributes: BootAttributes(rawValue: 0))
        #expect(SlotGeometry.violations(slots: [slotB], geometry: Self.geometry, sectorSize: 512)
            == [.disagreesWithTable(Self.b(45056, 77823), listedFirstLBA: 45056, listedBytes: 1 << 20)])
        slotB.number = 5
        #expect(SlotGeometry.violations(slots: [slotB], geometry: Self.geometry, sectorSize: 512)
            == [.notInTable(number: 5, label: "USR-B")])
    }

    // MARK: Crafted disks, through the library

    @Test(arguments: BadSlotLayout.allCases)
    func aBadSlotLayoutIsRefusedAtProbeTimeWithNothingWritten(_ variant: BadSlotLayout) throws {
        try TestDisk.with(.imageFile) { testDisk in
            try GPTImage.edit(testDisk.path) { variant.apply(to: &$0) }
            let crafted = try testDisk.snapshot()
            #expect {
                try SlotPair(disk: try Disk.probe(testDisk.path))
            } throws: { error in
                let text = "\(error)"
                return variant.expectedText.allSatisfy(text.contains)
            }
            #expect(try testDisk.identical(to: crafted))
        }
    }

    /// The pair was probed on a sound table; the table is then rewritten with OEM over B. The
    /// flag change checks the table it is about to rewrite, and refuses.
    @Test func aTableChangedAfterTheProbeIsCheckedAgainBeforeWriting() throws {
        try TestDisk.with(.imageFile) { testDisk in
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            try GPTImage.edit(testDisk.path) { $0.set(entry: 6, .firstLBA, 70000) }
            let crafted = try testDisk.snapshot()
            #expect {
                try BootControl(pair: pair).setTrial(.b)
            } throws: { error in
                guard case SlotError.unsafeSlotGeometry(_, let violations) = error else { return false }
                return violations == [.overlapsPartition(slot: Self.b(45056, 77823),
                                                         other: PartitionExtent(number: 6, label: "OEM", range: LBARange(first: 70000, last: 86015)))]
            }
            #expect(try testDisk.identical(to: crafted))
        }
    }
}
