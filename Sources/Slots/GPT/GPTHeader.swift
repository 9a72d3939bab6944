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
    /// The entry array's size in bytes; `Int.max` when the two 32-bit fields multiply past
    /// what an `Int` holds, which `parse` refuses as implausible.
    var entryArrayBytes: Int {
        let (bytes, overflow) = entryCount.multipliedReportingOverflow(by: entrySize)
        return overflow ? Int.max : bytes
    }

    /// Whole sectors the entry array takes, rounded up without overflowing.
    func entryArraySectors(sectorSize: Int) -> UInt64 {
        guard sectorSize > 0 else { return 0 }
        let bytes = entryArrayBytes
        return UInt64(bytes / sectorSize + (bytes % sectorSize == 0 ? 0 : 1))
    }

    /// The sectors of the entry array, or nil when they run past the largest LBA.
    func entryArrayRange(sectorSize: Int) -> LBARange? {
        LBARange(first: entriesLBA, count: entryArraySectors(sectorSize: sectorSize))
    }

    var usableArea: LBARange { LBARange(first: firstUsableLBA, last: lastUsableLBA) }

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

    /// Parses and checks a header sector (the whole sector, so that its length is the sector
    /// size). Returns why it is unusable on failure.
    ///
    /// Beyond the signature and the CRC, every field is checked against the others, because a
    /// CRC only proves that whoever wrote the header meant it: the entry array must be of a
    /// plausible size; the usable area must not end before it starts; and the header, its
    /// entry array and the other copy's header must lie outside the usable area, must not
    /// overlap each other or LBA 0, and must be addressable. A copy that breaks any of this is
    /// damaged, like one with a bad CRC: repaired from the other copy when that one is sound.
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
        if let problem = header.placementProblem(sectorSize: sector.count) {
            return .failure(.invalidHeader(problem))
        }
        return .success(header)
    }

    /// What is wrong with where this header puts things, in words, or nil when nothing is.
    private func placementProblem(sectorSize: Int) -> String? {
        let usable = usableArea
        // An empty usable area (first = last + 1) is allowed, as in the specification.
        guard usable.first <= usable.last || usable.first - 1 == usable.last else {
            return "usable area \(usable) ends before it starts"
        }
        guard let entries = entryArrayRange(sectorSize: sectorSize) else {
            return "entry array at LBA \(entriesLBA) runs past the largest LBA"
        }
        guard alternateLBA != currentLBA, alternateLBA != 0 else {
            return "the other copy's header is said to be at LBA \(alternateLBA)"
        }
        let structures: [(String, LBARange)] = [
            ("the protective MBR", LBARange(first: 0, last: 0)),
            ("this header", LBARange(first: currentLBA, last: currentLBA)),
            ("the other copy's header", LBARange(first: alternateLBA, last: alternateLBA)),
        ]
        for (name, range) in structures where entries.overlaps(range) {
            return "entry array (\(entries)) overlaps \(name) (\(range))"
        }
        for (name, range) in structures.dropFirst() + [("the entry array", entries)] where usable.overlaps(range) {
            return "usable area \(usable) includes \(name) (\(range))"
        }
        return nil
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
