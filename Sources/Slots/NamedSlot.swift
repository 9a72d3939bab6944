/// The slot the bootloader says it booted, named on the kernel command line
/// (`tandem.slot=a` or `tandem.slot=b`) rather than found through a partition.
public struct NamedSlot: Sendable, Equatable {
    public static let commandLineKey = "tandem.slot"

    public var name: SlotName
    /// In words, where the name came from.
    public var evidence: String

    public init(name: SlotName, evidence: String) {
        self.name = name
        self.evidence = evidence
    }
}
