/// The outcome of a change to the slots' boot state.
public struct BootChange: Sendable {
    public var before: BootTable
    public var after: BootTable
    /// Damage found on the way and repaired by the write (empty when nothing was wrong).
    public var repaired: [BootStateProblem]
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

/// Reads and changes the slots' boot state through the configured backend (`BootBackend`),
/// and predicts what the bootloader does with it.
///
/// Every change holds the disk's lock (`DiskLock`) from reading the state to writing it back,
/// unless the caller already holds it for longer (an install) and passes it in. The lock is
/// the disk's whatever the backend, so one writer per disk covers the ESP's files as well.
public final class BootControl {
    public let pair: SlotPair
    public let backend: BootBackend
    private let lockTimeout: Double
    /// The disk's lock while a change runs, or for the whole life of this object when the
    /// caller passed one in.
    private var heldLock: DiskLock?

    /// `holding`: the caller's lock on the pair's disk, kept across several changes; without
    /// it, each change takes the lock itself and waits up to `lockTimeout` seconds for it.
    public init(pair: SlotPair, backend: BootBackend, holding lock: DiskLock? = nil,
                lockTimeout: Double = DiskLock.defaultTimeout) {
        self.pair = pair
        self.backend = backend
        self.lockTimeout = lockTimeout
        heldLock = lock
    }

    /// The gptprio backend on the pair's disk. `storage` defaults to the disk opened for
    /// writing; tests pass a fault-injecting one.
    public convenience init(pair: SlotPair, storage: BlockStorage? = nil, holding lock: DiskLock? = nil,
                            lockTimeout: Double = DiskLock.defaultTimeout) throws(SlotError) {
        let opened: BlockStorage
        if let storage {
            opened = storage
        } else {
            opened = try DiskFile(path: pair.disk.path, writable: true)
        }
        self.init(pair: pair, backend: GPTPrioBackend(storage: opened), holding: lock, lockTimeout: lockTimeout)
    }

    /// The boot state as the bootloader will see it, and any damage a write would repair.
    public func read() throws(SlotError) -> BootReading {
        try backend.read(pair)
    }

    /// Applies `change` to the current state and writes it if anything changed.
    @discardableResult
    public func update(_ change: (inout BootTable) throws -> Void) throws -> BootChange {
        try exclusively { try unlockedUpdate(change) }
    }

    private func unlockedUpdate(_ change: (inout BootTable) throws -> Void) throws -> BootChange {
        let before = try backend.read(pair).table
        var after = before
        try change(&after)
        guard after != before else {
            return BootChange(before: before, after: after, repaired: [], written: false)
        }
        let repaired = try backend.write(after, to: pair)
        return BootChange(before: before, after: after, repaired: repaired, written: true)
    }

    /// Rewrites the stored state when the backend found it damaged, stale or misplaced.
    public func repair() throws -> [BootStateProblem] {
        try exclusively {
            let reading = try backend.read(pair)
            guard !reading.problems.isEmpty else { return [] }
            return try backend.write(reading.table, to: pair)
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

    /// The slot the bootloader would boot. With `commit`, also does what the bootloader does:
    /// uses up one try of a trial slot and writes the state back.
    @discardableResult
    public func nextBoot(commit: Bool) throws -> NextBoot {
        // A commit decides on what it read: the lock spans the read as well as the write.
        commit ? try exclusively { try unlockedNextBoot(commit: true) } : try unlockedNextBoot(commit: false)
    }

    private func unlockedNextBoot(commit: Bool) throws -> NextBoot {
        let current = try backend.read(pair).table
        guard let choice = backend.choice(in: current) else {
            throw SlotError.noBootableSlot(disk: pair.disk.path)
        }
        guard let slot = pair.slot(partition: choice.partition) else {
            throw SlotError.bootedPartitionNotASlot(disk: pair.disk.path, partition: choice.partition)
        }
        guard commit else { return NextBoot(slot: slot, consumesTry: choice.consumesTry, change: nil) }
        let change = try unlockedUpdate { table in
            // A backend's choice comes from its own model of the bootloader: never trust it to
            // leave a try to take.
            if choice.consumesTry, table[choice.partition].tries > 0 { table[choice.partition].tries -= 1 }
        }
        return NextBoot(slot: slot, consumesTry: choice.consumesTry, change: change)
    }

    /// Runs `body` holding the disk's lock: the caller's, or one taken for the call.
    private func exclusively<T>(_ body: () throws -> T) throws -> T {
        if heldLock != nil { return try body() }
        heldLock = try DiskLock.acquire(pair.disk.path, timeout: lockTimeout)
        defer { heldLock = nil }
        return try body()
    }
}
