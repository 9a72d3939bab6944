/// A GPT header as stored on disk. The raw bytes are kept so that fields Tandem does not
/// change (revision, reserved words, anything a newer revision adds) are written back as read.
struct GPTHeader: Equatable {
    static let signature: [UInt8] = Array("EFI PART".utf8)
    static let minimumSize = 92
    /// Refuse absurd entry arrays before allocating for them: 128 entries of 128 bytes is
    /// the norm, and nothing real comes near 4 MiB.
    static let maximumEntryArrayBytes = 4 << 20

    private(set) var bytes: [UInt8]

    var headerSize: Int { Int(bytes.littleEndianUInt32(at: 12)) }
    var storedCRC: UInt32 { bytes.littleEndianUInt32(at: 16) }
    var currentLBA: UInt64 {
        get { bytes.littleEndianUInt64(at: 24) }
        set { bytes.setLittleEndian(newValue, at: 24) }
    }
    var alternateLBA: UInt64 {
        get { bytes.littleEndianUInt64(at: 32) }
        set { bytes.setLittleEndian(newValue, at: 32) }
    }
    var firstUsableLBA: UInt64 { bytes.littleEndianUInt64(at: 40) }
    var lastUsableLBA: UInt64 {
        get { bytes.littleEndianUInt64(at: 48) }
        set { bytes.setLittleEndian(newValue, at: 48) }
    }
    var diskGUID: GUID { GUID(diskBytes: bytes[56..<72]) }
    var entriesLBA: UInt64 {
        get { bytes.littleEndianUInt64(at: 72) }
        set { bytes.setLittleEndian(newValue, at: 72) }
    }
    var entryCount: Int { Int(bytes.littleEndianUInt32(at: 80)) }
    var entrySize: Int { Int(bytes.littleEndianUInt32(at: 84)) }
    var entriesCRC: UInt32 {
        get { bytes.littleEndianUInt32(at: 88) }
        set { bytes.setLittleEndian(newValue, at: 88) }
    }
    var entryArrayBytes: Int { entryCount * entrySize }

    func entryArraySectors(sectorSize: Int) -> UInt64 {
        UInt64((entryArrayBytes + sectorSize - 1) / sectorSize)
    }

    func computedCRC() -> UInt32 {
        var copy = bytes
        copy.setLittleEndian(UInt32(0), at: 16)
        return CRC32.checksum(copy)
    }

    /// Recomputes the header CRC after fields were changed.
    mutating func seal() {
        bytes.setLittleEndian(computedCRC(), at: 16)
    }

    /// The header padded with zeros to one sector, as it is written.
    func sector(size: Int) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: size - bytes.count)
    }

    /// Parses and checks a header sector. Returns why it is unusable, in words, on failure.
    static func parse(sector: [UInt8], at lba: UInt64) -> Result<GPTHeader, GPTDamage> {
        guard sector.count >= minimumSize, Array(sector[0..<8]) == signature else {
            return .failure(.noSignature)
        }
        let size = Int(sector.littleEndianUInt32(at: 12))
        guard size >= minimumSize, size <= sector.count else {
            return .failure(.invalidHeader("header size \(size) is out of range"))
        }
        let header = GPTHeader(bytes: Array(sector[0..<size]))
        guard header.storedCRC == header.computedCRC() else {
            return .failure(.badHeaderCRC)
        }
        guard header.currentLBA == lba else {
            return .failure(.invalidHeader("header at LBA \(lba) says it lives at LBA \(header.currentLBA)"))
        }
        guard header.entrySize >= 128, header.entrySize % 8 == 0, header.entryCount > 0,
              header.entryArrayBytes <= maximumEntryArrayBytes
        else {
            return .failure(.invalidHeader("entry array of \(header.entryCount) × \(header.entrySize) bytes is not plausible"))
        }
        guard header.firstUsableLBA <= header.lastUsableLBA + 1 else {
            return .failure(.invalidHeader("first usable LBA is after the last usable LBA"))
        }
        return .success(header)
    }
}

/// Why one copy of the GPT cannot be used.
enum GPTDamage: Error, Equatable, CustomStringConvertible {
    case noSignature
    case invalidHeader(String)
    case badHeaderCRC
    case badEntriesCRC
    case beyondEndOfDisk(lba: UInt64, sectors: UInt64)
    case unreadable(String)

    var description: String {
        switch self {
        case .noSignature: "no GPT signature"
        case let .invalidHeader(detail): "invalid header: \(detail)"
        case .badHeaderCRC: "bad header CRC"
        case .badEntriesCRC: "bad partition-entry array CRC"
        case let .beyondEndOfDisk(lba, sectors): "missing: it belongs at LBA \(lba) but the disk has only \(sectors) sectors"
        case let .unreadable(detail): "unreadable: \(detail)"
        }
    }
}
