import Slots

/// Tandem's variables in the grubenv: each slot's priority, tries and good flag, which the
/// shipped fragment (`GrubFragment`) reads and counts down, and what the fragment recorded
/// about the boot it made.
///
/// Values are decimal: `0` to `15` for priority and tries, `0` or `1` for good, `a` or `b`
/// for the booted slot. The fragment compares them as strings, so anything else (`07`, `16`,
/// `x`, missing) is what the fragment makes of it: 0, not good, no boot recorded. Decoding
/// reports each such value, and the next write replaces it.
public enum GrubBootVariables {
    public static func priority(_ slot: SlotName) -> String { "TANDEM_\(slot.rawValue)_PRIORITY" }
    public static func tries(_ slot: SlotName) -> String { "TANDEM_\(slot.rawValue)_TRIES" }
    public static func good(_ slot: SlotName) -> String { "TANDEM_\(slot.rawValue)_GOOD" }
    /// `a` or `b`: the slot the fragment booted last.
    public static let booted = "TANDEM_BOOTED"
    /// `1` when that boot used up a try, else `0`.
    public static let bootedTrial = "TANDEM_BOOTED_TRIAL"

    /// Every variable Tandem owns, in the order it writes them: first in the block, so that
    /// they lie in its first 512-byte sector (see `GrubEnvironmentBackend`).
    public static let names: [String] = SlotName.allCases.flatMap { [priority($0), tries($0), good($0)] }
        + [booted, bootedTrial]

    /// The slots' state as the fragment will see it.
    public struct Decoded: Sendable, Equatable {
        public var attributes: [SlotName: BootAttributes]
        public var lastBoot: LastBoot?
        /// Values the fragment reads differently from what they look like, or not at all.
        public var problems: [String]
    }

    public static func decode(_ environment: GrubEnvironment) -> Decoded {
        var problems: [String] = []
        for name in names where environment.count(of: name) > 1 {
            problems.append("\(name) appears \(environment.count(of: name)) times (GRUB's load_env takes the last, its save_env changes the first)")
        }
        var attributes: [SlotName: BootAttributes] = [:]
        for slot in SlotName.allCases {
            let priority = number(environment, priority(slot), maximum: BootAttributes.maximumPriority, problems: &problems)
            let tries = number(environment, tries(slot), maximum: BootAttributes.maximumTries, problems: &problems)
            let good = number(environment, good(slot), maximum: 1, problems: &problems) == 1
            attributes[slot] = BootAttributes(priority: priority, tries: tries, successful: good)
        }
        return Decoded(attributes: attributes, lastBoot: lastBoot(environment), problems: problems)
    }

    /// The environment with Tandem's variables set from `attributes` and placed first; the
    /// boot record and every other variable keep their values (the others their order too).
    /// A boot record the fragment could not have written is dropped.
    public static func encode(_ attributes: [SlotName: BootAttributes], into environment: GrubEnvironment) -> GrubEnvironment {
        let owned = Set(names.map { Array($0.utf8) })
        var variables: [GrubEnvironment.Variable] = []
        for slot in SlotName.allCases {
            let slotAttributes = attributes[slot] ?? BootAttributes(rawValue: 0)
            variables.append(.init(priority(slot), String(slotAttributes.priority)))
            variables.append(.init(tries(slot), String(slotAttributes.tries)))
            variables.append(.init(good(slot), slotAttributes.successful ? "1" : "0"))
        }
        let record = lastBoot(environment)
        variables.append(.init(booted, record.map { $0.slot.rawValue.lowercased() } ?? ""))
        variables.append(.init(bootedTrial, record?.consumedTry == true ? "1" : "0"))
        variables += environment.variables.filter { !owned.contains($0.name) }
        return GrubEnvironment(variables: variables)
    }

    private static func lastBoot(_ environment: GrubEnvironment) -> LastBoot? {
        let slot: SlotName
        switch environment.value(of: booted) {
        case Array("a".utf8)?: slot = .a
        case Array("b".utf8)?: slot = .b
        default: return nil
        }
        return LastBoot(slot: slot, consumedTry: environment.value(of: bootedTrial) == Array("1".utf8))
    }

    /// The value the fragment's if-chain makes of `name`: one of the exact strings `0`...
    /// `maximum`, else 0.
    private static func number(_ environment: GrubEnvironment, _ name: String, maximum: UInt8,
                               problems: inout [String]) -> UInt8 {
        guard let raw = environment.value(of: name) else {
            problems.append("\(name) is missing (GRUB reads it as 0)")
            return 0
        }
        for candidate in 0...maximum where raw == Array(String(candidate).utf8) {
            return candidate
        }
        problems.append("\(name)=\(printable(raw)) is not one of 0-\(maximum) (GRUB reads it as 0)")
        return 0
    }

    /// A value for a message: at most 32 bytes, with anything unprintable as `\xNN`.
    static func printable(_ raw: [UInt8]) -> String {
        let shown = raw.prefix(32).map { byte -> String in
            (0x20..<0x7F).contains(byte) && byte != UInt8(ascii: "\\")
                ? String(UnicodeScalar(byte)) : "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        return "'" + shown + (raw.count > 32 ? "...'" : "'")
    }
}
