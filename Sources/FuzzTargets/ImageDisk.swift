import Slots

/// A disk held in memory, made from a fuzz input: only its first and last sectors, where the
/// two GPT copies live, are stored; everything else reads as zeros. So the disk can claim any
/// size, from empty to far beyond memory, while the input stays small.
///
/// Input layout (Fuzz/Scripts/make-gpt-seeds.sh writes it):
/// - byte 0: bit 0 set: 4096-byte logical sectors, else 512; bit 1 set: the checksums are kept
///   as given, else both GPT copies are resealed (`GPTSealing`) so that mutated fields get past
///   the CRCs to the checks behind them;
/// - bytes 1...4: the disk size in sectors, little-endian;
/// - then the head, placed at offset 0: up to 34 sectors of 512 bytes (MBR, primary header,
///   entry array), or 6 of 4096;
/// - then the tail, placed so that it ends at the end of the disk (backup entries and header).
final class ImageDisk: BlockStorage {
    let path = "fuzz-image"
    let sizeInBytes: UInt64
    let sectorSize: Int
    private let head: [UInt8]
    private let tail: [UInt8]
    private let tailOffset: UInt64
    /// What was written since, sector by sector (GPT writes are whole sectors).
    private var written: [UInt64: [UInt8]] = [:]

    static let prefixLength = 5

    init(_ input: [UInt8]) {
        sectorSize = (input.first ?? 0) & 1 == 1 ? 4096 : 512
        let sectors = input.dropFirst().prefix(4).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        sizeInBytes = sectors * UInt64(sectorSize)
        let regions = input.dropFirst(ImageDisk.prefixLength)
        head = Array(regions.prefix(ImageDisk.headSectors(sectorSize) * sectorSize).prefix(Int(clamping: sizeInBytes)))
        tail = Array(regions.dropFirst(head.count).suffix(Int(clamping: sizeInBytes - UInt64(head.count))))
        tailOffset = sizeInBytes - UInt64(tail.count)
        if (input.first ?? 0) & 2 == 0 {
            // What cannot be resealed stays as it is, damaged.
            try? GPTSealing.resealBothCopies(of: self)
        }
    }

    /// MBR, primary header and a 16 KiB entry array.
    static func headSectors(_ sectorSize: Int) -> Int { 2 + (16 << 10) / sectorSize }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        // Like a file: a read past the end comes up short, which the caller sees as an error.
        guard count >= 0, offset <= sizeInBytes, UInt64(count) <= sizeInBytes - offset else {
            throw ImageDiskError.beyondEnd(offset: offset, count: count, size: sizeInBytes)
        }
        var bytes = [UInt8](repeating: 0, count: count)
        copy(head, from: 0, into: &bytes, at: offset)
        copy(tail, from: tailOffset, into: &bytes, at: offset)
        let size = UInt64(sectorSize)
        for (lba, sector) in written where lba * size < offset + UInt64(count) && (lba + 1) * size > offset {
            copy(sector, from: lba * size, into: &bytes, at: offset)
        }
        return bytes
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        let size = UInt64(sectorSize)
        guard offset % size == 0, bytes.count % sectorSize == 0, offset <= sizeInBytes,
              UInt64(bytes.count) <= sizeInBytes - offset
        else {
            throw ImageDiskError.beyondEnd(offset: offset, count: bytes.count, size: sizeInBytes)
        }
        for index in 0..<bytes.count / sectorSize {
            written[offset / size + UInt64(index)] = Array(bytes[index * sectorSize..<(index + 1) * sectorSize])
        }
    }

    func synchronize() throws {}

    /// Copies the part of `region` (which starts at disk offset `start`) that overlaps the
    /// read of `bytes.count` bytes at disk offset `offset`.
    private func copy(_ region: [UInt8], from start: UInt64, into bytes: inout [UInt8], at offset: UInt64) {
        let lower = max(start, offset), upper = min(start + UInt64(region.count), offset + UInt64(bytes.count))
        guard lower < upper else { return }
        bytes.replaceSubrange(Int(lower - offset)..<Int(upper - offset), with: region[Int(lower - start)..<Int(upper - start)])
    }
}

enum ImageDiskError: Error, CustomStringConvertible {
    case beyondEnd(offset: UInt64, count: Int, size: UInt64)

    var description: String {
        switch self {
        case let .beyondEnd(offset, count, size): "\(count) bytes at offset \(offset) are beyond the end of the \(size)-byte disk"
        }
    }
}
