import CBlkid
import SystemPackage

/// The only place that calls libblkid. Everything above it sees Swift values.
enum Blkid {
    /// The logical sector size the kernel reports for a block device (BLKSSZGET).
    static func logicalSectorSize(of descriptor: FileDescriptor) -> Int {
        guard let probe = blkid_new_probe() else { return 512 }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, descriptor.rawValue, 0, 0) == 0 else { return 512 }
        let size = Int(blkid_probe_get_sectorsize(probe))
        return size > 0 ? size : 512
    }

    struct PartitionTable {
        var type: String
        var id: String?
        var partitions: [Partition]
    }

    /// Reads the partition list of `path`. `sectorSize` overrides libblkid's default of 512
    /// for image files, which have no logical sector size of their own.
    static func partitionTable(of path: String, sectorSize: Int, isBlockDevice: Bool) throws(SlotError) -> PartitionTable? {
        guard let probe = blkid_new_probe_from_filename(path) else {
            throw .probeFailed(disk: path, detail: "cannot open it for probing")
        }
        defer { blkid_free_probe(probe) }
        if !isBlockDevice {
            blkid_probe_set_sectorsize(probe, UInt32(sectorSize))
        }
        blkid_probe_enable_superblocks(probe, 0)
        blkid_probe_enable_partitions(probe, 1)
        guard let list = blkid_probe_get_partitions(probe),
              let table = blkid_partlist_get_table(list),
              let type = blkid_parttable_get_type(table)
        else { return nil }

        // libblkid counts start and size in 512-byte units whatever the logical sector size.
        let unitsPerSector = Int64(sectorSize / 512)
        var partitions: [Partition] = []
        for index in 0..<blkid_partlist_numof_partitions(list) {
            guard let partition = blkid_partlist_get_partition(list, index) else { continue }
            let typeString = blkid_partition_get_type_string(partition).map { String(cString: $0) } ?? ""
            let uuidString = blkid_partition_get_uuid(partition).map { String(cString: $0) } ?? ""
            partitions.append(Partition(
                number: Int(blkid_partition_get_partno(partition)),
                label: blkid_partition_get_name(partition).map { String(cString: $0) } ?? "",
                typeGUID: GUID(typeString) ?? .zero,
                uniqueGUID: GUID(uuidString) ?? .zero,
                firstLBA: UInt64(blkid_partition_get_start(partition) / unitsPerSector),
                sizeInBytes: UInt64(blkid_partition_get_size(partition)) * 512,
                attributes: BootAttributes(rawValue: UInt64(blkid_partition_get_flags(partition)))
            ))
        }
        return PartitionTable(
            type: String(cString: type),
            id: blkid_parttable_get_id(table).map { String(cString: $0) },
            partitions: partitions
        )
    }
}
