/// The two slots of a disk, found by label and checked against the layout.
public struct SlotPair: Sendable, Equatable {
    public var disk: Disk
    public var layout: SlotLayout
    public var a: Slot
    public var b: Slot

    public init(disk: Disk, layout: SlotLayout = .flatcar) throws(SlotError) {
        self.disk = disk
        self.layout = layout
        a = Slot(name: .a, partition: try SlotPair.find(layout.labelA, on: disk, layout: layout))
        b = Slot(name: .b, partition: try SlotPair.find(layout.labelB, on: disk, layout: layout))
    }

    public subscript(name: SlotName) -> Slot {
        name == .a ? a : b
    }

    public var slots: [Slot] { [a, b] }

    /// The boot flags as probed, for predicting the next boot without opening the disk again.
    public var bootTable: BootTable {
        BootTable(
            attributes: Dictionary(uniqueKeysWithValues: disk.partitions.map { ($0.number, $0.attributes) }),
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
        guard partition.sizeInBytes >= layout.minimumSize else {
            throw .slotTooSmall(disk: disk.path, partition: partition.number, label: label,
                                size: partition.sizeInBytes, minimum: layout.minimumSize)
        }
        return partition
    }
}
