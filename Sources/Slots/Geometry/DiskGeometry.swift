/// One used GPT entry with its range exactly as the table states it.
public struct PartitionExtent: Sendable, Equatable, CustomStringConvertible {
    public var number: Int
    public var label: String
    public var range: LBARange

    public init(number: Int, label: String, range: LBARange) {
        self.number = number
        self.label = label
        self.range = range
    }

    public var description: String { "partition \(number) (\(label), \(range))" }
}

/// Sectors that belong to the partition table itself: where it is now, and where Tandem's GPT
/// writer puts it when it rewrites or repairs it.
public struct GPTArea: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case protectiveMBR, primaryHeader, primaryEntries, backupHeader, backupEntries

        var name: String {
            switch self {
            case .protectiveMBR: "the protective MBR"
            case .primaryHeader: "the primary GPT header"
            case .primaryEntries: "the primary GPT entry array"
            case .backupHeader: "the backup GPT header"
            case .backupEntries: "the backup GPT entry array"
            }
        }
    }

    public var kind: Kind
    public var range: LBARange

    public init(_ kind: Kind, _ range: LBARange) {
        self.kind = kind
        self.range = range
    }

    public var description: String { "\(kind.name) (\(range))" }
}

/// What the geometry rules check the slots against, read by Tandem's own GPT reader from both
/// copies: the disk's size, the usable area of the header in use, the table's own sectors and
/// every used entry's range as stated (inverted and absurd ranges included).
public struct DiskGeometry: Sendable, Equatable {
    public var sectorCount: UInt64
    /// The header in use: the primary while it is valid, else the backup.
    public var usableArea: LBARange
    public var gptAreas: [GPTArea]
    public var entries: [PartitionExtent]

    public init(sectorCount: UInt64, usableArea: LBARange, gptAreas: [GPTArea], entries: [PartitionExtent]) {
        self.sectorCount = sectorCount
        self.usableArea = usableArea
        self.gptAreas = gptAreas
        self.entries = entries
    }

    public func entry(_ number: Int) -> PartitionExtent? {
        entries.first { $0.number == number }
    }
}
