/// Which slot to install into.
public enum SlotChoice: String, Sendable, CaseIterable {
    /// The slot that is not booted.
    case auto
    case a = "A"
    case b = "B"
}
