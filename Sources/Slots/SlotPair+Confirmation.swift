extension SlotPair {
    /// The pair as the disk holds it now, for a writer holding the disk's lock: probed again
    /// and built through the same checks as at first, and refused unless `target` is still the
    /// very partition the write was planned for (number, unique GUID, first LBA, size) and is
    /// not the booted slot. Another tool may have rewritten the table since the first probe.
    public func confirmed(target: SlotName, booted: Slot) throws(SlotError) -> SlotPair {
        let fresh = try SlotPair(disk: try Disk.probe(disk.path), layout: layout)
        let planned = self[target].partition
        let found = fresh[target].partition
        guard found.number == planned.number, found.uniqueGUID == planned.uniqueGUID, found.firstLBA == planned.firstLBA,
              found.sizeInBytes == planned.sizeInBytes
        else {
            throw .slotChanged(disk: disk.path, slot: target, planned: SlotPair.describe(planned), found: SlotPair.describe(found))
        }
        let running = fresh[booted.name].partition
        guard target != booted.name, running.number == booted.partition.number,
              running.uniqueGUID == booted.partition.uniqueGUID, found.number != running.number,
              found.uniqueGUID != running.uniqueGUID
        else {
            throw .slotChanged(disk: disk.path, slot: target, planned: "not the booted slot \(booted.name.rawValue) "
                + "(\(SlotPair.describe(booted.partition)))", found: "the booted slot \(SlotPair.describe(running))")
        }
        return fresh
    }

    private static func describe(_ partition: Partition) -> String {
        "partition \(partition.number) (\(partition.label), \(partition.uniqueGUID), first LBA \(partition.firstLBA), "
            + "\(partition.sizeInBytes) bytes)"
    }
}
