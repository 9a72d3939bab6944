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

/// One of the two slots: its name and the partition that holds it.
public struct Slot: Sendable, Equatable {
    public var name: SlotName
    public var partition: Partition
}
