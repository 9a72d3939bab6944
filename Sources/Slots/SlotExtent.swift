/// Where a slot's bytes are on its disk. Only the slot pair makes one, from a partition that
/// passed the geometry rules, and only when the whole range lies inside the disk: so
/// `offset + length` is representable, and a writer given an extent cannot be pointed at
/// raw numbers of someone else's choosing.
public struct SlotExtent: Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the slot's first sector on the disk.
    public let offset: UInt64
    /// Length in bytes.
    public let length: UInt64

    /// The byte after the slot's last one.
    public var end: UInt64 { offset + length }

    /// The bytes of `range`, or nil when they do not lie wholly inside a disk of `diskBytes`
    /// bytes, or past what a file offset (`off_t`) can address.
    init?(_ range: LBARange, sectorSize: Int, diskBytes: UInt64) {
        guard sectorSize > 0, let sectors = range.count else { return nil }
        let (offset, offsetOverflow) = range.first.multipliedReportingOverflow(by: UInt64(sectorSize))
        let (length, lengthOverflow) = sectors.multipliedReportingOverflow(by: UInt64(sectorSize))
        guard !offsetOverflow, !lengthOverflow else { return nil }
        let (end, endOverflow) = offset.addingReportingOverflow(length)
        guard !endOverflow, end <= diskBytes, end <= UInt64(Int64.max) else { return nil }
        self.offset = offset
        self.length = length
    }

    public var description: String { "bytes \(offset)–\(end - 1)" }
}
