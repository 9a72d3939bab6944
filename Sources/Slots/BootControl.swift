/// The outcome of a change to the boot flags.
public struct BootChange: Sendable {
    public var before: BootTable
    public var after: BootTable
    /// Damage found on the way and repaired by the write (empty when nothing was wrong).
    public var repaired: [GPTProblem]
    /// Whether the disk was written. A change that alters nothing writes nothing.
    public var written: Bool
}

/// The bootloader's decision for the next power-on.
public struct NextBoot: Sendable {
    public var slot: Slot
    /// Whether this boot uses up one of the slot's tries (a trial boot).
    public var consumesTry: Bool
    public var change: BootChange?
}

/// Reads and changes the boot flags of a slot pair's disk through the crash-safe GPT writer.
///
/// Every change holds the disk's lock (`DiskLock`) from reading the table to writing it back,
/// unless the caller already holds it for longer (an install) and passes it in.
public final class BootControl {
    public let pair: SlotPair
    private let storage: BlockStorage
    private let lockTimeout: Double
    /// The disk's lock while a change runs, or for the whole life of this object when the
    /// caller passed one in.
    private var heldLock: DiskLock?

    /// `storage` defaults to the pair's disk opened for writing; tests pass a fault-injecting one.
    /// `holding`: the caller's lock on the pair's disk, kept across several changes; without
    /// it, each change takes the lock itself and waits up to `lockTimeout` seconds for it.
    public init(pair: SlotPair, storage: BlockStorage? = nil, holding lock: DiskLock? = nil,
                lockTimeout: Double = DiskLock.defaultTimeout) throws(SlotError) {
        self.pair = pair
        self.lockTimeout = lockTimeout
        heldLock = lock
        if let storage {
            self.storage = storage
        } else {
            self.storage = try DiskFile(path: pair.disk.path, writable: true)
        }
    }

    /// The boot flags as the GPT holds them now, and any damage a write would repair.
    public func read() throws(SlotError) -> (table: BootTable, problems: [GPTProblem]) {
        let snapshot = GPTReader.read(storage)
        let copy = try checkedCopy(snapshot)
        return (table(from: copy.entries), snapshot.problems)
    }

    /// Applies `change` to the current flags and writes both GPT copies if anything changed.
    @discardableResult
    public func update(_ change: (inout BootTable) throws -> Void) throws -> BootChange {
        try exclusively { try unlockedUpdate(change) }
    }

    private func unlockedUpdate(_ change: (inout BootTable) throws -> Void) throws -> BootChange {
        let snapshot = GPTReader.read(storage)
        var entries = try checkedCopy(snapshot).entries
        let before = table(from: entries)
        var after = before
        try change(&after)
        guard after != before else {
            return BootChange(before: before, after: after, repaired: [], written: false)
        }
        for number in entries.usedNumbers where after[number] != before[number] {
            entries.setAttributes(after[number], of: number)
        }
        let repaired = try GPTWriter.write(entries, over: snapshot, to: storage)
        return BootChange(before: before, after: after, repaired: repaired, written: true)
    }

    /// Rewrites both GPT copies from the good one when either is damaged, stale or misplaced.
    public func repair() throws -> [GPTProblem] {
        try exclusively {
            let snapshot = GPTReader.read(storage)
            let entries = try checkedCopy(snapshot).entries
            guard !snapshot.problems.isEmpty else { return [] }
            return try GPTWriter.write(entries, over: snapshot, to: storage)
        }
    }

    @discardableResult
    public func invalidate(_ slot: SlotName) throws -> BootChange {
        try update { $0.invalidate(pair[slot].partition.number) }
    }

    @discardableResult
    public func markBad(_ slot: SlotName) throws -> BootChange {
        try update { $0.markBad(pair[slot].partition.number) }
    }

    @discardableResult
    public func markGood(_ slot: SlotName) throws -> BootChange {
        try update { $0.markGood(pair[slot].partition.number) }
    }

    @discardableResult
    public func setTrial(_ slot: SlotName, tries: UInt8 = 1) throws -> BootChange {
        try update { $0.setTrial(pair[slot].partition.number, tries: tries) }
    }

    @discardableResult
    public func prioritize(_ slot: SlotName) throws -> BootChange {
        try update { $0.prioritize(pair[slot].partition.number) }
    }

    /// The slot GRUB's `gptprio.next` would boot. With `commit`, also does what GRUB does:
    /// uses up one try of a trial slot and writes the table back.
    @discardableResult
    public func nextBoot(commit: Bool) throws -> NextBoot {
        // A commit decides on what it read: the lock spans the read as well as the write.
        commit ? try exclusively { try unlockedNextBoot(commit: true) } : try unlockedNextBoot(commit: false)
    }

    private func unlockedNextBoot(commit: Bool) throws -> NextBoot {
        let current = try read().table
        guard let number = current.nextBoot() else {
            throw SlotError.noBootableSlot(disk: pair.disk.path)
        }
        guard let slot = pair.slot(partition: number) else {
            throw SlotError.bootedPartitionNotASlot(disk: pair.disk.path, partition: number)
        }
        let consumesTry = current[number].tries > 0
        guard commit else { return NextBoot(slot: slot, consumesTry: consumesTry, change: nil) }
        let change = try unlockedUpdate { _ = $0.takeNextBoot() }
        return NextBoot(slot: slot, consumesTry: consumesTry, change: change)
    }

    /// Runs `body` holding the disk's lock: the caller's, or one taken for the call.
    private func exclusively<T>(_ body: () throws -> T) throws -> T {
        if heldLock != nil { return try body() }
        heldLock = try DiskLock.acquire(pair.disk.path, timeout: lockTimeout)
        defer { heldLock = nil }
        return try body()
    }

    /// The authoritative copy, after checking that the slots are still the partitions that
    /// were probed, at the same place: a table rewritten in between must not get flags meant
    /// for another layout. The geometry rules are applied again to the table about to be
    /// rewritten, not only to the one probed.
    private func checkedCopy(_ snapshot: GPTSnapshot) throws(SlotError) -> GPTCopy {
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

    private func table(from entries: PartitionEntries) -> BootTable {
        let used = entries.usedNumbers
        return BootTable(
            attributes: Dictionary(uniqueKeysWithValues: used.map { ($0, entries.attributes(of: $0)) }),
            bootPartitions: used.filter { entries.typeGUID(of: $0) == pair.layout.typeGUID })
    }
}
