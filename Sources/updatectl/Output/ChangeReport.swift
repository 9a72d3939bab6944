import Slots

/// Lines describing what a boot-flag change did, slot by slot, and what was repaired.
func describe(_ change: BootChange, on pair: SlotPair) -> String {
    var lines: [String] = change.repaired.map { "repaired: \($0)" }
    for slot in pair.slots {
        let number = slot.partition.number
        let before = change.before[number], after = change.after[number]
        let name = "slot \(slot.name.rawValue) (\(slot.partition.label), partition \(number))"
        lines.append(before == after ? "\(name): unchanged, \(after)" : "\(name): \(before) -> \(after)")
    }
    if !change.written {
        lines.append("nothing to write: the flags already had these values")
    }
    return lines.joined(separator: "\n")
}
