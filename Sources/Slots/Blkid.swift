import CBlkid
import SystemPackage

/// The only place that calls libblkid. Everything above it sees Swift values.
enum Blkid {
    /// The logical sector size the kernel reports for a block device (BLKSSZGET).
    static func logicalSectorSize(of descriptor: FileDescriptor) -> Int {
        guard let probe = blkid_new_probe() else { return 512 }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, descriptor.rawValue, 0, 0) == 0 else { return 512 }
        // The kernel only reports powers of two from 512 up; anything else is not a sector size
        // (and a size below 512 would leave no 512-byte units per sector to divide by).
        let size = Int(blkid_probe_get_sectorsize(probe))
        return (512...65536).contains(size) && size.nonzeroBitCount == 1 ? size : 512
    }

    struct PartitionTable {
        var type: String
        var id: String?
        var partitions: [Partition]
    }

    /// Reads the partition list of `path`. `sectorSize` overrides libblkid's default of 512
    /// for image files, which have no logical sector size of their own.
    ///
    /// libblkid's start and size are signed, and it reports whatever the entry says: a negative
    /// size for an entry that ends before it starts, a start past 2^63 bytes as negative. Such
    /// values are not converted; `statedExtent` gives the entry's own first LBA and size
    /// instead, which the geometry rules then judge.
    static func partitionTable(
        of path: String, sectorSize: Int, isBlockDevice: Bool,
        statedExtent: (Int) -> (firstLBA: UInt64, sizeInBytes: UInt64)
    ) throws(SlotError) -> PartitionTable? {
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

        var partitions: [Partition] = []
        for index in 0..<max(blkid_partlist_numof_partitions(list), 0) {
            guard let partition = blkid_partlist_get_partition(list, index) else { continue }
            let typeString = blkid_partition_get_type_string(partition).map { String(cString: $0) } ?? ""
            let uuidString = blkid_partition_get_uuid(partition).map { String(cString: $0) } ?? ""
            let number = Int(blkid_partition_get_partno(partition))
            let extent = extent(start: blkid_partition_get_start(partition), size: blkid_partition_get_size(partition),
                                sectorSize: sectorSize) ?? statedExtent(number)
            partitions.append(Partition(
                number: number,
                label: blkid_partition_get_name(partition).map { String(cString: $0) } ?? "",
                typeGUID: GUID(typeString) ?? .zero,
                uniqueGUID: GUID(uuidString) ?? .zero,
                firstLBA: extent.firstLBA,
                sizeInBytes: extent.sizeInBytes,
                attributes: BootAttributes(rawValue: UInt64(blkid_partition_get_flags(partition)))
            ))
        }
        return PartitionTable(
            type: String(cString: type),
            id: blkid_parttable_get_id(table).map { String(cString: $0) },
            partitions: partitions
        )
    }

    /// libblkid's start and size (in 512-byte units whatever the logical sector size) as a first
    /// LBA and a size in bytes, or nil when they cannot be a partition's: negative, not on a
    /// sector boundary, or past 2^64 bytes.
    static func extent(start: Int64, size: Int64, sectorSize: Int) -> (firstLBA: UInt64, sizeInBytes: UInt64)? {
        let unitsPerSector = UInt64(sectorSize / 512)
        guard start >= 0, size >= 0, unitsPerSector > 0, UInt64(start) % unitsPerSector == 0 else { return nil }
        let (bytes, overflow) = UInt64(size).multipliedReportingOverflow(by: 512)
        guard !overflow else { return nil }
        return (UInt64(start) / unitsPerSector, bytes)
    }
}
