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
    /// The GPT's usable area, its own sectors and every entry as stated, read by Tandem's own
    /// reader from both copies: what the slot geometry rules check against.
    public var geometry: DiskGeometry

    /// Probes `path`: libblkid lists every GPT partition, and Tandem's own reader reads both GPT
    /// copies for the geometry. A disk where neither copy is usable is refused here.
    public static func probe(_ path: String) throws(SlotError) -> Disk {
        let file = try DiskFile(path: path)
        let snapshot = GPTReader.read(file)
        // Asked for lazily: a disk with an MBR is refused as such, not as a damaged GPT.
        let copy = { () throws(SlotError) in try snapshot.authoritative() }
        let table = try Blkid.partitionTable(
            of: path, sectorSize: file.sectorSize, isBlockDevice: file.isBlockDevice,
            statedExtent: { number in
                let stated = (try? copy())?.entries.partition(number, sectorSize: file.sectorSize)
                return (stated?.firstLBA ?? 0, stated?.sizeInBytes ?? 0)
            })
        if let table, table.type != "gpt" {
            throw .notGPT(disk: path, found: table.type)
        }
        // libblkid ignores a GPT it finds inconsistent, such as one on a disk truncated below
        // its backup header. If one copy is still usable, list from it so that the damage
        // can be shown and repaired; otherwise say precisely what is wrong. libblkid's list
        // counts only while the primary is the copy in use: where Tandem reads the backup,
        // libblkid may still be reading a primary Tandem found absurd.
        let authoritative = try copy()
        let stated = authoritative.entries.usedNumbers.map { authoritative.entries.partition($0, sectorSize: file.sectorSize) }
        // libblkid also skips entries outside the usable area; they are listed as stated, so
        // that the geometry rules name them instead of a slot going missing.
        let listed = (try? snapshot.primary.get()) != nil ? table?.partitions ?? [] : []
        let partitions = listed + stated.filter { entry in !listed.contains { $0.number == entry.number } }
        return Disk(
            path: path,
            isBlockDevice: file.isBlockDevice,
            sectorSize: file.sectorSize,
            sizeInBytes: file.sizeInBytes,
            diskGUID: table?.id.flatMap(GUID.init) ?? authoritative.header.diskGUID,
            partitions: partitions.sorted { $0.number < $1.number },
            geometry: snapshot.geometry(of: authoritative)
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
