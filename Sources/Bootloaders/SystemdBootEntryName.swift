import Slots

/// systemd-boot's boot counter in an entry's file name, `+LEFT-DONE` before `.conf`.
public struct SystemdBootCounter: Equatable, Sendable {
    /// Boots left before systemd-boot sorts the entry last (`LEFT`), 0-15 in Tandem's model.
    public var left: Int
    /// Boots already counted (`DONE`); systemd-boot and systemd-bless-boot keep it, Tandem too.
    public var done: Int

    public init(left: Int, done: Int) {
        self.left = left
        self.done = done
    }

    /// systemd-boot ignores a counter above INT_MAX (config_entry_parse_tries), so it never
    /// writes one either: it caps DONE there.
    public static let maximumValue = Int(Int32.max)

    /// What systemd-boot 252 renames the counter to when it boots the entry
    /// (config_entry_parse_tries: `LESS_BY(left, 1)`, `MIN(done + 1, INT_MAX)`).
    public func afterBoot() -> SystemdBootCounter {
        SystemdBootCounter(left: max(left - 1, 0), done: min(done, Self.maximumValue - 1) + 1)
    }
}

/// The file name of a Tandem loader entry: `tandem-<a|b>[+LEFT[-DONE]].conf` in
/// `<ESP>/loader/entries/`. No counter: the slot is good and boots without counting.
public struct SystemdBootEntryName: Equatable, Sendable {
    public var slot: SlotName
    public var counter: SystemdBootCounter?

    public init(slot: SlotName, counter: SystemdBootCounter?) {
        self.slot = slot
        self.counter = counter
    }

    public static let suffix = ".conf"

    static func stem(of slot: SlotName) -> String {
        "tandem-" + slot.rawValue.lowercased()
    }

    /// The name as Tandem writes it, and as systemd-boot and systemd-bless-boot rename it:
    /// decimal numbers without leading zeros, `-DONE` written even when 0.
    public var fileName: String {
        guard let counter else { return Self.stem(of: slot) + Self.suffix }
        return Self.stem(of: slot) + "+\(counter.left)-\(counter.done)" + Self.suffix
    }

    /// What a name in `loader/entries` is, to Tandem.
    public enum Parsed: Equatable, Sendable {
        /// Not a loader entry for systemd-boot 252: it skips names starting with `.` or `auto-`,
        /// and names not ending in `.conf` (config_load_entries). Tandem's temporary files are
        /// among these.
        case ignored
        case entry(SystemdBootEntryName)
        /// A `.conf` entry that systemd-boot loads but that is not one of Tandem's two names, or
        /// a Tandem name whose counter Tandem cannot model (why in the text).
        case foreign(String)
    }

    /// Parses `name` the way systemd-boot 252 reads it: case-insensitively (FAT is, and it
    /// lowercases the entry id), the counter after the last `+`. Counters systemd-boot would
    /// read differently from Tandem are `foreign`, never a guess: an overflowing counter makes
    /// systemd-boot drop the counting and boot the entry as if it were blessed.
    public static func parse(_ name: String) -> Parsed {
        let lowered = name.lowercased()
        guard !lowered.hasPrefix("."), !lowered.hasPrefix("auto-"), lowered.hasSuffix(suffix) else { return .ignored }
        let stemAndCounter = lowered.dropLast(suffix.count)
        for slot in SlotName.allCases {
            let stem = stem(of: slot)
            guard stemAndCounter.hasPrefix(stem) else { continue }
            let rest = stemAndCounter.dropFirst(stem.count)
            if rest.isEmpty { return .entry(SystemdBootEntryName(slot: slot, counter: nil)) }
            guard rest.first == "+" else { break }
            guard let counter = parseCounter(rest.dropFirst()) else {
                return .foreign("\(name): the boot counter is not +LEFT-DONE with LEFT 0-15 and DONE at most "
                                + "\(SystemdBootCounter.maximumValue), in digits without leading zeros")
            }
            return .entry(SystemdBootEntryName(slot: slot, counter: counter))
        }
        return .foreign("\(name) is not one of Tandem's entries (tandem-a[+T-D].conf, tandem-b[+T-D].conf)")
    }

    /// `LEFT` or `LEFT-DONE`, each a decimal number without a sign or leading zeros.
    private static func parseCounter(_ text: Substring) -> SystemdBootCounter? {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let left = parts.first.flatMap(number), left <= Int(BootAttributes.maximumTries) else { return nil }
        guard parts.count == 2 else { return SystemdBootCounter(left: left, done: 0) }
        guard let done = number(parts[1]) else { return nil }
        return SystemdBootCounter(left: left, done: done)
    }

    private static func number(_ digits: Substring) -> Int? {
        // Ten digits already exceed INT_MAX; the length bound keeps the arithmetic in range.
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits == "0" || digits.first != "0"
        else { return nil }
        var value = 0
        for digit in digits.utf8 { value = value * 10 + Int(digit - UInt8(ascii: "0")) }
        return value <= SystemdBootCounter.maximumValue ? value : nil
    }
}
