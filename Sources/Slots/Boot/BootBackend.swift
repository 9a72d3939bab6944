/// Where the bootloader keeps the slots' boot state, and how Tandem reads and changes it.
///
/// The lifecycle (trial, bless, fallback, quarantine) is written once, against `BootTable`:
/// a priority 0-15, tries 0-15 and a good flag per slot, with `gptprio.next`'s choice. A
/// backend stores that table where its bootloader reads it and says what its bootloader will
/// do with it; it holds no policy of its own.
///
/// Failures are `SlotError`: the disk's own (`SlotError.tableChanged`, ...) or the backend's
/// (`SlotError.bootBackend`), so that every caller handles one error type.
///
/// `BootControl` calls a backend only while holding the disk's lock (`DiskLock`), so a
/// backend never needs a lock of its own: one writer per disk covers the ESP's files too.
public protocol BootBackend: AnyObject {
    var kind: BootBackendKind { get }

    /// The slots' state as the bootloader will see it at the next power-on. The table's
    /// `bootPartitions` are the partitions the bootloader chooses among (for gptprio every
    /// partition of the slot type, otherwise the two slots), keyed by partition number.
    func read(_ pair: SlotPair) throws(SlotError) -> BootReading

    /// Makes `table` the state the bootloader sees, and repairs the damage `read` reported.
    /// Crash-safe: a power cut at any point leaves the bootloader seeing either the state
    /// before the call or `table`, never a mixture that neither slot could boot from.
    /// Returns the damage that the write repaired. Throws `SlotError`, or the storage's own
    /// error when a write to the disk fails (tests inject power cuts that way).
    func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem]

    /// The partition the bootloader picks from `table` at power-on, and whether that boot uses
    /// up a try. Nil when it would boot neither slot.
    func choice(in table: BootTable) -> BootChoice?

    /// What the bootloader recorded about the boot that is running now, for backends whose
    /// bootloader records it (nil when it records nothing or the record cannot be read).
    func lastBoot(_ pair: SlotPair) -> LastBoot?

    /// Where the bootloader loads `slot`'s kernel, initrd or UKI from, when it cannot read them
    /// from the slot itself. Nil when this backend's bootloader takes them from elsewhere
    /// (the slot, or a place Tandem does not manage); a bundle that carries boot artifacts is
    /// then refused rather than installed without them.
    func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement?
}

extension BootBackend {
    /// `gptprio.next`'s choice, which every backend's bootloader is configured to make.
    public func choice(in table: BootTable) -> BootChoice? {
        table.nextBoot().map { BootChoice(partition: $0, consumesTry: table[$0].tries > 0) }
    }

    public func lastBoot(_ pair: SlotPair) -> LastBoot? { nil }
}

/// The boot state as read, and the damage a write would repair.
public struct BootReading: Sendable, Equatable {
    public var table: BootTable
    public var problems: [BootStateProblem]

    public init(table: BootTable, problems: [BootStateProblem] = []) {
        self.table = table
        self.problems = problems
    }
}

/// The bootloader's pick for a power-on.
public struct BootChoice: Sendable, Equatable {
    public var partition: Int
    /// Whether the boot uses up one of the slot's tries (a trial boot).
    public var consumesTry: Bool

    public init(partition: Int, consumesTry: Bool) {
        self.partition = partition
        self.consumesTry = consumesTry
    }
}

/// What the bootloader recorded about the boot now running.
public struct LastBoot: Sendable, Equatable {
    public var slot: SlotName
    /// Whether the bootloader counted the boot as a try.
    public var consumedTry: Bool

    public init(slot: SlotName, consumedTry: Bool) {
        self.slot = slot
        self.consumedTry = consumedTry
    }
}
