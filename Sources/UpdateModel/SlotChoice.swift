import Slots

/// Which slot to install into.
public enum SlotChoice: String, Sendable, CaseIterable, Codable {
    /// The slot that is not booted.
    case auto
    case a = "A"
    case b = "B"
}

extension SlotChoice {
    /// As people write it: `auto`, `A` or `B`, in either case.
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased() == SlotChoice.auto.rawValue ? SlotChoice.auto.rawValue : text.uppercased())
    }
}

extension SlotChoice {
    /// That slot, by name.
    public init(_ slot: SlotName) {
        switch slot {
        case .a: self = .a
        case .b: self = .b
        }
    }
}
