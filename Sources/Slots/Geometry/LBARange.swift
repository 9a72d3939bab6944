/// An inclusive range of logical blocks exactly as a GPT states it: `last` may be below
/// `first` when the table is wrong, so nothing here assumes a well-formed range.
public struct LBARange: Sendable, Equatable, CustomStringConvertible {
    public var first: UInt64
    public var last: UInt64

    public init(first: UInt64, last: UInt64) {
        self.first = first
        self.last = last
    }

    /// `count` blocks from `first`, or nil when the last one is past the largest LBA.
    public init?(first: UInt64, count: UInt64) {
        guard count > 0 else { return nil }
        let (last, overflow) = first.addingReportingOverflow(count - 1)
        guard !overflow else { return nil }
        self.init(first: first, last: last)
    }

    /// A range whose end comes before its start: it holds no block, and nothing may be written to it.
    public var isInverted: Bool { last < first }

    /// Blocks in the range, or nil when inverted or too many to count (the whole 64-bit space).
    public var count: UInt64? {
        guard !isInverted else { return nil }
        let (count, overflow) = (last - first).addingReportingOverflow(1)
        return overflow ? nil : count
    }

    public func contains(_ lba: UInt64) -> Bool {
        first <= lba && lba <= last
    }

    /// Whether every block of `other` is in this range (false for an inverted `other`).
    public func contains(_ other: LBARange) -> Bool {
        !isInverted && !other.isInverted && first <= other.first && other.last <= last
    }

    /// Whether the two ranges share a block. Inverted ranges hold none, so they overlap nothing.
    public func overlaps(_ other: LBARange) -> Bool {
        !isInverted && !other.isInverted && first <= other.last && other.first <= last
    }

    public var description: String {
        first == last ? "LBA \(first)" : "LBA \(first)–\(last)"
    }
}
