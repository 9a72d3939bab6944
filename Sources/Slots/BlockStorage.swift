/// Sector-addressed storage holding a partition table: a disk, a loop device or a disk-image file.
///
/// The GPT writer goes through this protocol so that tests can interpose a writer that stops
/// after any single write, which is how crash safety is proven.
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
    var sectorCount: UInt64 { sizeInBytes / UInt64(sectorSize) }

    func readSectors(_ lba: UInt64, count: Int) throws -> [UInt8] {
        try read(at: lba * UInt64(sectorSize), count: count * sectorSize)
    }

    func writeSectors(_ bytes: [UInt8], at lba: UInt64) throws {
        try write(bytes, at: lba * UInt64(sectorSize))
    }
}
