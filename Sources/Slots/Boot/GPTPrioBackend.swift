/// The ChromeOS/Flatcar GPT attribute bits (priority 48-51, tries 52-55, successful 56), as
/// Flatcar's GRUB (`gptprio.next`) and ChromeOS firmware read them. Every change goes through
/// the crash-safe GPT writer: the backup copy first, then the primary.
public final class GPTPrioBackend: BootBackend {
    public let kind = BootBackendKind.gptprio
    private let storage: BlockStorage
    /// Where Flatcar's GRUB loads each slot's kernel from (`/flatcar/vmlinuz-a`), when an ESP
    /// is known; without one, the kernel is the image builder's business.
    private let esp: String?

    public init(storage: BlockStorage, esp: String? = nil) {
        self.storage = storage
        self.esp = esp
    }

    public func read(_ pair: SlotPair) throws(SlotError) -> BootReading {
        let snapshot = GPTReader.read(storage)
        let copy = try checkedCopy(snapshot, pair: pair)
        return BootReading(table: Self.table(from: copy.entries, pair: pair), problems: snapshot.problems.map { .gpt($0) })
    }

    public func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem] {
        let snapshot = GPTReader.read(storage)
        var entries = try checkedCopy(snapshot, pair: pair).entries
        let before = Self.table(from: entries, pair: pair)
        for number in entries.usedNumbers where table[number] != before[number] {
            entries.setAttributes(table[number], of: number)
        }
        return try GPTWriter.write(entries, over: snapshot, to: storage).map { .gpt($0) }
    }

    public func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement? {
        guard let esp else { return nil }
        let suffix = slot.name.rawValue.lowercased()
        return BootArtifactPlacement(directory: esp + "/flatcar", fileNames: [.kernel: "vmlinuz-\(suffix)"])
    }

    /// The authoritative copy, after checking that the slots are still the partitions that
    /// were probed, at the same place: a table rewritten in between must not get flags meant
    /// for another layout. The geometry rules are applied again to the table about to be
    /// rewritten, not only to the one probed.
    private func checkedCopy(_ snapshot: GPTSnapshot, pair: SlotPair) throws(SlotError) -> GPTCopy {
        let copy = try snapshot.authoritative()
        let geometry = snapshot.geometry(of: copy)
        for slot in pair.slots {
            let number = slot.partition.number
            guard copy.entries.contains(number), copy.entries.uniqueGUID(of: number) == slot.partition.uniqueGUID else {
                throw .tableChanged(disk: pair.disk.path,
                                    detail: "partition \(number) is no longer \(slot.partition.label) \(slot.partition.uniqueGUID)")
            }
            let probed = pair.disk.geometry.entry(number)?.range
            guard geometry.entry(number)?.range == probed else {
                throw .tableChanged(disk: pair.disk.path,
                                    detail: "partition \(number) (\(slot.partition.label)) moved from \(probed.map { "\($0)" } ?? "nowhere") "
                                        + "to \(copy.entries.range(of: number))")
            }
        }
        let violations = SlotGeometry.violations(slots: pair.slots.map(\.partition), geometry: geometry,
                                                 sectorSize: snapshot.sectorSize)
        guard violations.isEmpty else {
            throw .unsafeSlotGeometry(disk: pair.disk.path, violations: violations)
        }
        return copy
    }

    private static func table(from entries: PartitionEntries, pair: SlotPair) -> BootTable {
        let used = entries.usedNumbers
        return BootTable(
            attributes: Dictionary(uniqueKeysWithValues: used.map { ($0, entries.attributes(of: $0)) }),
            bootPartitions: used.filter { entries.typeGUID(of: $0) == pair.layout.typeGUID })
    }
}
