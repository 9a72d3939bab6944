/// One GPT partition as libblkid reports it.
public struct Partition: Sendable, Equatable {
    /// 1-based partition number (the GPT entry index plus one).
    public var number: Int
    /// The GPT partition name (PARTLABEL).
    public var label: String
    public var typeGUID: GUID
    /// The partition's unique GUID (PARTUUID).
    public var uniqueGUID: GUID
    /// First logical block, in the disk's logical sectors.
    public var firstLBA: UInt64
    public var sizeInBytes: UInt64
    /// The full 64-bit GPT attribute field.
    public var attributes: BootAttributes

    public init(number: Int, label: String, typeGUID: GUID, uniqueGUID: GUID,
                firstLBA: UInt64, sizeInBytes: UInt64, attributes: BootAttributes) {
        self.number = number
        self.label = label
        self.typeGUID = typeGUID
        self.uniqueGUID = uniqueGUID
        self.firstLBA = firstLBA
        self.sizeInBytes = sizeInBytes
        self.attributes = attributes
    }
}

/// A GPT disk: a block device or a disk-image file.
public struct Disk: Sendable, Equatable {
    public var path: String
    public var isBlockDevice: Bool
    public var sectorSize: Int
    public var sizeInBytes: UInt64
    /// The disk GUID from the GPT header.
    public var diskGUID: GUID?
    public var partitions: [Partition]

    /// Probes `path` with libblkid and lists every GPT partition.
    public static func probe(_ path: String) throws(SlotError) -> Disk {
        let file = try DiskFile(path: path)
        guard let table = try Blkid.partitionTable(
            of: path, sectorSize: file.sectorSize, isBlockDevice: file.isBlockDevice)
        else {
            // libblkid ignores a GPT it finds inconsistent, such as one on a disk truncated below
            // its backup header. If one copy is still usable, list from it so that the damage
            // can be shown and repaired; otherwise say precisely what is wrong.
            let copy = try GPTReader.read(file).authoritative()
            return Disk(
                path: path, isBlockDevice: file.isBlockDevice, sectorSize: file.sectorSize,
                sizeInBytes: file.sizeInBytes, diskGUID: copy.header.diskGUID,
                partitions: copy.entries.usedNumbers.map { copy.entries.partition($0, sectorSize: file.sectorSize) })
        }
        guard table.type == "gpt" else {
            throw .notGPT(disk: path, found: table.type)
        }
        return Disk(
            path: path,
            isBlockDevice: file.isBlockDevice,
            sectorSize: file.sectorSize,
            sizeInBytes: file.sizeInBytes,
            diskGUID: table.id.flatMap(GUID.init),
            partitions: table.partitions.sorted { $0.number < $1.number }
        )
    }

    /// Damage to either GPT copy that the next write would repair. Reading only.
    public func tableProblems() throws(SlotError) -> [GPTProblem] {
        let snapshot = GPTReader.read(try DiskFile(path: path))
        _ = try snapshot.authoritative()
        return snapshot.problems
    }

    public func partition(number: Int) -> Partition? {
        partitions.first { $0.number == number }
    }

    /// The device node of a partition of a block device (`/dev/sda` → `/dev/sda3`,
    /// `/dev/loop0` → `/dev/loop0p3`). Image files have no partition nodes.
    public func partitionDevicePath(number: Int) -> String? {
        guard isBlockDevice else { return nil }
        let separator = path.last?.isNumber == true ? "p" : ""
        return "\(path)\(separator)\(number)"
    }
}
