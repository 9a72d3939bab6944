/// Sector-addressed storage holding a partition table: a disk, a loop device or a disk-image file.
///
/// The GPT writer goes through this protocol so that tests can interpose a writer that stops
/// after any single write, which is how crash safety is proven; and so that the GPT reader
/// runs over a byte image in memory as well.
public protocol BlockStorage: AnyObject {
    var path: String { get }
    var sizeInBytes: UInt64 { get }
    /// Logical sector size: 512 or 4096.
    var sectorSize: Int { get }
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
    func write(_ bytes: [UInt8], at offset: UInt64) throws
    /// Makes every earlier write durable before any later one starts.
    func synchronize() throws
}

extension BlockStorage {
    var sectorCount: UInt64 { sectorSize > 0 ? sizeInBytes / UInt64(sectorSize) : 0 }

    /// Reads `count` whole sectors from `lba`; refuses, rather than wraps, a range whose byte
    /// offset or length does not fit, or that ends past the end of the disk.
    func readSectors(_ lba: UInt64, count: Int) throws -> [UInt8] {
        let (offset, length) = try byteRange(lba, sectors: count)
        return try read(at: offset, count: length)
    }

    /// Writes `bytes` from the start of `lba`, refusing anything that would end past the disk.
    func writeSectors(_ bytes: [UInt8], at lba: UInt64) throws {
        let (offset, _) = try byteRange(lba, bytes: bytes.count)
        try write(bytes, at: offset)
    }

    private func byteRange(_ lba: UInt64, sectors: Int) throws(SlotError) -> (offset: UInt64, length: Int) {
        let (length, overflow) = sectors.multipliedReportingOverflow(by: sectorSize)
        guard sectors >= 0, !overflow else {
            throw .outsideDisk(disk: path, detail: "\(sectors) sectors of \(sectorSize) bytes at LBA \(lba)")
        }
        return try byteRange(lba, bytes: length)
    }

    private func byteRange(_ lba: UInt64, bytes: Int) throws(SlotError) -> (offset: UInt64, length: Int) {
        let (offset, overflow) = lba.multipliedReportingOverflow(by: UInt64(max(sectorSize, 0)))
        let (end, endOverflow) = offset.addingReportingOverflow(UInt64(max(bytes, 0)))
        guard bytes >= 0, !overflow, !endOverflow, end <= sizeInBytes else {
            throw .outsideDisk(disk: path, detail: "\(bytes) bytes at LBA \(lba) of a disk of \(sizeInBytes) bytes")
        }
        return (offset, bytes)
    }
}
