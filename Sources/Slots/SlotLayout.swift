/// How the two slots are recognised on a disk.
public struct SlotLayout: Sendable, Equatable {
    public var labelA: String
    public var labelB: String
    public var typeGUID: GUID
    /// A slot smaller than this is a configuration mistake (a placeholder partition, a
    /// wrong label), not somewhere to install an operating system.
    public var minimumSize: UInt64

    public static let defaultMinimumSize: UInt64 = 1 << 20

    public init(labelA: String = "USR-A", labelB: String = "USR-B",
                typeGUID: GUID = .flatcarUsr, minimumSize: UInt64 = SlotLayout.defaultMinimumSize) {
        self.labelA = labelA
        self.labelB = labelB
        self.typeGUID = typeGUID
        self.minimumSize = minimumSize
    }

    public static let flatcar = SlotLayout()
}

/// The name of a slot, independent of its label or partition number.
public enum SlotName: String, Sendable, CaseIterable, Codable {
    case a = "A"
    case b = "B"

    public var other: SlotName { self == .a ? .b : .a }
}

/// One of the two slots: its name, the partition that holds it, and where its bytes are.
/// Only `SlotPair` makes one, after the partition passed the geometry rules.
public struct Slot: Sendable, Equatable {
    public let name: SlotName
    public let partition: Partition
    /// The partition's bytes on the disk: the only range anything may write the slot's image to.
    public let extent: SlotExtent
}
