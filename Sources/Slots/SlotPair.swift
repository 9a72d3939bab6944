/// The two slots of a disk, found by label and checked against the layout and the geometry
/// rules. This initializer is the one way to a `Slot`, so every install and every flag change
/// works on slots that passed `SlotGeometry`; building a new pair from a new probe checks the
/// disk as it is now.
public struct SlotPair: Sendable, Equatable {
    public let disk: Disk
    public let layout: SlotLayout
    public let a: Slot
    public let b: Slot

    public init(disk: Disk, layout: SlotLayout = .flatcar) throws(SlotError) {
        self.disk = disk
        self.layout = layout
        let partitionA = try SlotPair.find(layout.labelA, on: disk, layout: layout)
        let partitionB = try SlotPair.find(layout.labelB, on: disk, layout: layout)
        let violations = SlotGeometry.violations(slots: [partitionA, partitionB], geometry: disk.geometry,
                                                 sectorSize: disk.sectorSize)
        guard violations.isEmpty else {
            throw .unsafeSlotGeometry(disk: disk.path, violations: violations)
        }
        for (partition, label) in [(partitionA, layout.labelA), (partitionB, layout.labelB)]
        where partition.sizeInBytes < layout.minimumSize {
            throw .slotTooSmall(disk: disk.path, partition: partition.number, label: label,
                                size: partition.sizeInBytes, minimum: layout.minimumSize)
        }
        a = try SlotPair.slot(.a, partitionA, on: disk)
        b = try SlotPair.slot(.b, partitionB, on: disk)
    }

    public subscript(name: SlotName) -> Slot {
        name == .a ? a : b
    }

    public var slots: [Slot] { [a, b] }

    /// The boot flags as probed, for predicting the next boot without opening the disk again.
    public var bootTable: BootTable {
        BootTable(
            attributes: Dictionary(disk.partitions.map { ($0.number, $0.attributes) }, uniquingKeysWith: { first, _ in first }),
            bootPartitions: disk.partitions.filter { $0.typeGUID == layout.typeGUID }.map(\.number))
    }

    /// The slot held by partition `number`, if either slot is.
    public func slot(partition number: Int) -> Slot? {
        slots.first { $0.partition.number == number }
    }

    /// Resolves what a user typed: `A`/`B` (any case), a slot's label, or its partition number.
    public func resolve(_ selector: String) throws(SlotError) -> Slot {
        if let name = SlotName(rawValue: selector.uppercased()) { return self[name] }
        if let match = slots.first(where: { $0.partition.label == selector }) { return match }
        if let number = Int(selector), let match = slot(partition: number) { return match }
        if let number = Int(selector), disk.partition(number: number) != nil {
            throw .notAUsrPartition(disk: disk.path, partition: number)
        }
        throw .unknownSlot(disk: disk.path, selector: selector)
    }

    /// The slot on `partition`, which passed the geometry rules, so its bytes lie inside the disk.
    private static func slot(_ name: SlotName, _ partition: Partition, on disk: Disk) throws(SlotError) -> Slot {
        let range = disk.geometry.entry(partition.number)?.range ?? LBARange(first: 1, last: 0)
        guard let extent = SlotExtent(range, sectorSize: disk.sectorSize, diskBytes: disk.sizeInBytes) else {
            let stated = PartitionExtent(number: partition.number, label: partition.label, range: range)
            throw .unsafeSlotGeometry(disk: disk.path, violations: [.beyondEndOfDisk(stated, sectorCount: disk.geometry.sectorCount)])
        }
        return Slot(name: name, partition: partition, extent: extent)
    }

    private static func find(_ label: String, on disk: Disk, layout: SlotLayout) throws(SlotError) -> Partition {
        let matches = disk.partitions.filter { $0.label == label }
        guard let partition = matches.first else {
            throw .slotMissing(disk: disk.path, label: label)
        }
        guard matches.count == 1 else {
            throw .duplicateLabel(disk: disk.path, label: label, partitions: matches.map(\.number))
        }
        guard partition.typeGUID == layout.typeGUID else {
            throw .wrongSlotType(disk: disk.path, partition: partition.number, label: label,
                                 type: partition.typeGUID, expected: layout.typeGUID)
        }
        return partition
    }
}
