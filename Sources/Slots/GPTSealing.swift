/// Recomputes the checksums of both GPT copies after their fields were edited in place, as a
/// partitioning tool does after a change. For fuzzing and mutation tests: a crafted field only
/// reaches the reader's checks behind the CRCs when the CRCs match it.
///
/// Reads only what fits the storage and at most `GPTHeader.maximumEntryArrayBytes` of
/// entries, whatever the headers say; a copy without a signature is left alone, and an entry
/// array it cannot read keeps its stored CRC.
public enum GPTSealing {
    public static func resealBothCopies(of storage: BlockStorage) throws {
        let lastLBA = storage.sectorCount > 0 ? storage.sectorCount - 1 : 0
        // The primary says where its backup is, as it does for the reader.
        let alternateLBA = try reseal(storage, headerAt: 1) ?? lastLBA
        _ = try reseal(storage, headerAt: alternateLBA)
    }

    /// Reseals the header at `lba` and returns its alternate LBA, or nil when no header is there.
    private static func reseal(_ storage: BlockStorage, headerAt lba: UInt64) throws -> UInt64? {
        guard lba > 0, lba < storage.sectorCount, storage.sectorSize >= GPTHeader.minimumSize else { return nil }
        var sector = try storage.readSectors(lba, count: 1)
        guard Array(sector[0..<8]) == GPTHeader.signature else { return nil }
        let sectorSize = UInt64(storage.sectorSize)
        let entriesLBA = sector.littleEndianUInt64(at: 72)
        let (arrayBytes, overflow) = UInt64(sector.littleEndianUInt32(at: 80))
            .multipliedReportingOverflow(by: UInt64(sector.littleEndianUInt32(at: 84)))
        if !overflow, arrayBytes <= UInt64(GPTHeader.maximumEntryArrayBytes), entriesLBA < storage.sectorCount,
           arrayBytes <= storage.sizeInBytes - entriesLBA * sectorSize {
            sector.setLittleEndian(CRC32.checksum(try storage.read(at: entriesLBA * sectorSize, count: Int(arrayBytes))), at: 88)
        }
        let headerSize = min(max(Int(sector.littleEndianUInt32(at: 12)), GPTHeader.minimumSize), storage.sectorSize)
        sector.setLittleEndian(UInt32(0), at: 16)
        sector.setLittleEndian(CRC32.checksum(sector[0..<headerSize]), at: 16)
        try storage.writeSectors(sector, at: lba)
        return sector.littleEndianUInt64(at: 32)
    }
}
