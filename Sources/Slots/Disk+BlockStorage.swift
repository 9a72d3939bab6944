extension Disk {
    /// Lists the partitions of `storage` from its GPT as Tandem itself reads it: the primary
    /// copy when it is usable, else the backup. Unlike `probe`, no libblkid and no file are
    /// needed, so a disk image held in memory can be read exactly as a disk would be.
    public static func read(from storage: BlockStorage) throws(SlotError) -> Disk {
        let snapshot = GPTReader.read(storage)
        let copy = try snapshot.authoritative()
        return Disk(
            path: storage.path, isBlockDevice: false, sectorSize: storage.sectorSize,
            sizeInBytes: storage.sizeInBytes, diskGUID: copy.header.diskGUID,
            partitions: copy.entries.usedNumbers.map { copy.entries.partition($0, sectorSize: storage.sectorSize) },
            geometry: snapshot.geometry(of: copy))
    }
}
