/// One way a slot breaks the geometry rules. Each description names the partitions and their
/// LBA ranges as the GPT states them.
public enum GeometryViolation: Sendable, Equatable, CustomStringConvertible {
    /// The partition list (libblkid's) has the slot, but the GPT copy in use has no such entry.
    case notInTable(number: Int, label: String)
    /// The partition list (libblkid's) and the GPT copy in use place the slot differently.
    case disagreesWithTable(PartitionExtent, listedFirstLBA: UInt64, listedBytes: UInt64)
    case inverted(PartitionExtent)
    case beyondEndOfDisk(PartitionExtent, sectorCount: UInt64)
    case outsideUsableArea(PartitionExtent, usableArea: LBARange)
    case overlapsOtherSlot(PartitionExtent, PartitionExtent)
    case overlapsPartition(slot: PartitionExtent, other: PartitionExtent)
    case overlapsGPT(PartitionExtent, GPTArea)

    public var description: String {
        switch self {
        case let .notInTable(number, label):
            "libblkid lists partition \(number) (\(label)), but the GPT has no such entry"
        case let .disagreesWithTable(slot, listedFirstLBA, listedBytes):
            "the partition list (libblkid) places partition \(slot.number) (\(slot.label)) at LBA \(listedFirstLBA) with \(listedBytes) bytes, "
                + "but its GPT entry says \(slot.range)"
        case let .inverted(slot):
            "\(slot) ends before it starts"
        case let .beyondEndOfDisk(slot, sectorCount):
            "\(slot) runs past the end of the disk, whose last sector is LBA \(sectorCount == 0 ? 0 : sectorCount - 1)"
        case let .outsideUsableArea(slot, usableArea):
            "\(slot) is not inside the usable area the GPT header declares (\(usableArea))"
        case let .overlapsOtherSlot(slot, other):
            "\(slot) and \(other), the two slots, overlap"
        case let .overlapsPartition(slot, other):
            "\(slot) overlaps \(other)"
        case let .overlapsGPT(slot, area):
            "\(slot) overlaps \(area)"
        }
    }
}
