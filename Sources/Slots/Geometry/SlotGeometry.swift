/// The geometry rules: where a slot may lie before Tandem writes a byte into it or changes its
/// boot flags. Pure, so that every rule is tested on its own; `SlotPair` applies them at probe
/// time and `BootControl` again on the table it is about to rewrite.
///
/// Each slot, as the GPT copy in use states it, must
/// 1. be the partition libblkid listed, at the same place and size;
/// 2. end at or after its start;
/// 3. fit the disk;
/// 4. lie within the usable area of the header in use;
/// 5. overlap neither the other slot, nor any other partition entry, nor either GPT's header
///    or entry array (where they are and where a rewrite puts them), nor the protective MBR at LBA 0.
public enum SlotGeometry {
    /// Every rule `slots` break, in rule order; empty when they are safe to write.
    public static func violations(slots: [Partition], geometry: DiskGeometry, sectorSize: Int) -> [GeometryViolation] {
        var found: [GeometryViolation] = []
        var checked: [PartitionExtent] = []
        for slot in slots {
            guard let stated = geometry.entry(slot.number) else {
                found.append(.notInTable(number: slot.number, label: slot.label))
                continue
            }
            if !listedAsStated(slot, stated.range, sectorSize: sectorSize) {
                found.append(.disagreesWithTable(stated, listedFirstLBA: slot.firstLBA, listedBytes: slot.sizeInBytes))
            }
            guard !stated.range.isInverted else {
                found.append(.inverted(stated))
                continue
            }
            if stated.range.last >= geometry.sectorCount {
                found.append(.beyondEndOfDisk(stated, sectorCount: geometry.sectorCount))
            }
            if !geometry.usableArea.contains(stated.range) {
                found.append(.outsideUsableArea(stated, usableArea: geometry.usableArea))
            }
            for other in checked where other.range.overlaps(stated.range) {
                found.append(.overlapsOtherSlot(other, stated))
            }
            let slotNumbers = Set(slots.map(\.number))
            for other in geometry.entries where !slotNumbers.contains(other.number) && other.range.overlaps(stated.range) {
                found.append(.overlapsPartition(slot: stated, other: other))
            }
            for area in geometry.gptAreas where area.range.overlaps(stated.range) {
                found.append(.overlapsGPT(stated, area))
            }
            checked.append(stated)
        }
        return found
    }

    /// Whether the listed first LBA and size are the entry's. A range too large to count in
    /// bytes is not compared: it cannot fit a disk, and rule 3 or 2 says so.
    private static func listedAsStated(_ slot: Partition, _ range: LBARange, sectorSize: Int) -> Bool {
        guard let sectors = range.count else { return true }
        let (bytes, overflow) = sectors.multipliedReportingOverflow(by: UInt64(sectorSize))
        return overflow || (slot.firstLBA == range.first && bytes == slot.sizeInBytes)
    }
}
