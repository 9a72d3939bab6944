import Platform
import SystemPackage

/// A disk, loop device or disk-image file opened for sector I/O.
public final class DiskFile: BlockStorage {
    public let path: String
    public let sizeInBytes: UInt64
    public let sectorSize: Int
    public let isBlockDevice: Bool
    private let descriptor: FileDescriptor

    public init(path: String, writable: Bool = false) throws(SlotError) {
        self.path = path
        do {
            descriptor = try FileDescriptor.open(
                FilePath(path), writable ? .readWrite : .readOnly, options: [.closeOnExec])
        } catch {
            throw .cannotOpen(disk: path, errno: error as? Errno ?? .ioError)
        }
        do {
            isBlockDevice = try descriptor.isBlockDevice()
            sizeInBytes = try descriptor.sizeInBytes()
        } catch {
            try? descriptor.close()
            throw .ioFailed(disk: path, operation: "stat", detail: "\(error)")
        }
        if isBlockDevice {
            sectorSize = Blkid.logicalSectorSize(of: descriptor)
        } else {
            sectorSize = DiskFile.sniffSectorSize(descriptor, size: sizeInBytes)
        }
    }

    deinit {
        try? descriptor.close()
    }

    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let start = try fileOffset(offset, count: count, operation: "reading")
        var bytes = [UInt8](repeating: 0, count: count)
        do {
            try bytes.withUnsafeMutableBytes { buffer in
                try descriptor.readExactly(fromAbsoluteOffset: start, into: buffer)
            }
        } catch {
            throw SlotError.ioFailed(disk: path, operation: "reading \(count) bytes at offset \(offset)", detail: "\(error)")
        }
        return bytes
    }

    public func write(_ bytes: [UInt8], at offset: UInt64) throws {
        let start = try fileOffset(offset, count: bytes.count, operation: "writing")
        do {
            try descriptor.writeExactly(toAbsoluteOffset: start, bytes)
        } catch {
            throw SlotError.ioFailed(disk: path, operation: "writing \(bytes.count) bytes at offset \(offset)", detail: "\(error)")
        }
    }

    /// `offset` as a file offset, refused when it or the byte after the range would not fit
    /// `off_t` (converting would trap) or `count` is negative.
    private func fileOffset(_ offset: UInt64, count: Int, operation: String) throws(SlotError) -> Int64 {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(max(count, 0)))
        guard count >= 0, !overflow, end <= UInt64(Int64.max) else {
            throw .outsideDisk(disk: path, detail: "\(operation) \(count) bytes at offset \(offset)")
        }
        return Int64(offset)
    }

    public func synchronize() throws {
        do {
            try descriptor.synchronize()
        } catch {
            throw SlotError.ioFailed(disk: path, operation: "fsync", detail: "\(error)")
        }
    }

    /// A regular file carries no logical sector size, so look for a GPT signature where a
    /// 512-byte or a 4096-byte table would put it: the primary header at LBA 1, then the
    /// backup header at the last LBA.
    private static func sniffSectorSize(_ descriptor: FileDescriptor, size: UInt64) -> Int {
        let candidates: [(Int, UInt64)] = [512, 4096].flatMap { sector in
            [(sector, UInt64(sector)), (sector, size >= UInt64(sector) ? size - UInt64(sector) : 0)]
        }
        for (sector, offset) in candidates where offset > 0 && offset + 8 <= size {
            var signature = [UInt8](repeating: 0, count: 8)
            let matched = (try? signature.withUnsafeMutableBytes { buffer in
                try descriptor.readExactly(fromAbsoluteOffset: Int64(offset), into: buffer)
            }) != nil && signature == GPTHeader.signature
            if matched { return sector }
        }
        return 512
    }
}
