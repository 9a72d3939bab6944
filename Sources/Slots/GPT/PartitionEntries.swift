/// The raw GPT partition-entry array. Only the attribute field (offset 48 of each entry) is
/// ever changed; every other byte is written back exactly as read.
struct PartitionEntries: Equatable {
    private(set) var bytes: [UInt8]
    let entrySize: Int

    init(bytes: [UInt8], entrySize: Int) {
        self.bytes = bytes
        self.entrySize = entrySize
    }

    var count: Int { entrySize > 0 ? bytes.count / entrySize : 0 }
    var crc: UInt32 { CRC32.checksum(bytes) }

    /// Partition numbers (1-based) of the entries in use, in table order.
    var usedNumbers: [Int] {
        (0..<count).map { $0 + 1 }.filter { typeGUID(of: $0) != .zero }
    }

    func contains(_ number: Int) -> Bool {
        number >= 1 && number <= count && typeGUID(of: number) != .zero
    }

    func typeGUID(of number: Int) -> GUID {
        GUID(diskBytes: bytes[offset(number)..<offset(number) + 16])
    }

    func uniqueGUID(of number: Int) -> GUID {
        GUID(diskBytes: bytes[offset(number) + 16..<offset(number) + 32])
    }

    func firstLBA(of number: Int) -> UInt64 {
        bytes.littleEndianUInt64(at: offset(number) + 32)
    }

    func lastLBA(of number: Int) -> UInt64 {
        bytes.littleEndianUInt64(at: offset(number) + 40)
    }

    /// The entry's range as stated, inverted or absurd as it may be.
    func range(of number: Int) -> LBARange {
        LBARange(first: firstLBA(of: number), last: lastLBA(of: number))
    }

    func attributes(of number: Int) -> BootAttributes {
        BootAttributes(rawValue: bytes.littleEndianUInt64(at: offset(number) + 48))
    }

    mutating func setAttributes(_ attributes: BootAttributes, of number: Int) {
        bytes.setLittleEndian(attributes.rawValue, at: offset(number) + 48)
    }

    /// The partition name: up to 36 UTF-16LE code units, NUL-terminated when shorter.
    func name(of number: Int) -> String {
        let start = offset(number) + 56
        let end = min(start + 72, offset(number) + entrySize)
        let units = stride(from: start, to: end - 1, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        return String(decoding: units.prefix { $0 != 0 }, as: UTF16.self)
    }

    /// The entry as a listed partition. An entry that ends before it starts, or whose size in
    /// bytes does not fit 64 bits, is listed with size 0: the geometry rules refuse it as a slot.
    func partition(_ number: Int, sectorSize: Int) -> Partition {
        let sectors = range(of: number).count ?? 0
        let (bytes, overflow) = sectors.multipliedReportingOverflow(by: UInt64(max(sectorSize, 0)))
        return Partition(
            number: number, label: name(of: number), typeGUID: typeGUID(of: number), uniqueGUID: uniqueGUID(of: number),
            firstLBA: firstLBA(of: number), sizeInBytes: overflow ? 0 : bytes, attributes: attributes(of: number))
    }

    /// The entry array padded with zeros to whole sectors, as it is written.
    func sectors(size: Int) -> [UInt8] {
        let padding = (size - bytes.count % size) % size
        return bytes + [UInt8](repeating: 0, count: padding)
    }

    private func offset(_ number: Int) -> Int {
        (number - 1) * entrySize
    }
}
