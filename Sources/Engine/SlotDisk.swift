import Slots
import Synchronization

/// The disk holding the slots, as tandemd sees it. Probed again for every operation, so that a
/// disk repaired or replaced while tandemd runs is used as it is now; a probe that fails fails
/// that operation with the reason, and is remembered for `status`, but never stops tandemd.
///
/// `exclusive` is the one way tandemd changes boot flags: the disk's lock (`DiskLock`) is held
/// from the probe to the write, so that no other writer, in tandemd (an install's own flag
/// changes lock the same disk) or outside it, comes between what was read and what is written.
///
/// The boot state is read and written through the configured backend (`bootBackend`), opened
/// afresh for each operation; its failures are the disk's problem like any other.
final class SlotDisk: Sendable {
    private let configuredDisk: String?
    private let configuredSlot: String?
    private let layout: SlotLayout
    private let lockTimeout: Double
    /// Opens the configured boot backend (`[Slots] Backend=`) for the probed pair.
    let bootBackend: BootBackendFactory
    /// The booted slot as last probed successfully, and the problem of the latest probe.
    private let last = Mutex<(booted: BootedSlot?, problem: SlotError?)>((nil, nil))

    init(disk: String?, bootedSlot: String?, layout: SlotLayout, bootBackend: @escaping BootBackendFactory,
         lockTimeout: Double = DiskLock.defaultTimeout) {
        configuredDisk = disk
        configuredSlot = bootedSlot
        self.layout = layout
        self.bootBackend = bootBackend
        self.lockTimeout = lockTimeout
    }

    /// The booted slot as last probed successfully (nil until a probe works), and what was wrong
    /// with the disk at the latest probe (nil when it worked).
    var current: (booted: BootedSlot?, problem: SlotError?) {
        last.withLock { $0 }
    }

    /// Probes the disk now and finds the booted slot on it.
    @discardableResult
    func probe() throws(SlotError) -> BootedSlot {
        let booted = try recording { () throws(SlotError) in
            try BootedSlot.locate(disk: configuredDisk, bootedSlot: configuredSlot, layout: layout)
        }
        last.withLock { $0 = (booted, nil) }
        return booted
    }

    /// Probes the disk and reads the boot state as the backend holds it, with what its
    /// bootloader recorded about the running boot (nil when it records nothing).
    func readTable() throws(SlotError) -> (booted: BootedSlot, table: BootTable, lastBoot: LastBoot?) {
        let booted = try probe()
        // Read-only: closing a descriptor opened for writing makes udev re-probe the disk, and
        // status is read often.
        return try recording { () throws(SlotError) in
            let backend = try bootBackend(booted.pair, true)
            return (booted, try BootControl(pair: booted.pair, backend: backend).read().table, backend.lastBoot(booted.pair))
        }
    }

    /// Runs `body` holding the disk's lock, with the disk probed under it.
    func exclusive<T>(_ body: (BootedSlot, BootControl) throws -> T) throws -> T {
        let path = try configuredDisk ?? last.withLock({ $0.booted })?.pair.disk.path ?? probe().pair.disk.path
        let lock = try recording { () throws(SlotError) in try DiskLock.acquire(path, timeout: lockTimeout) }
        let booted = try probe()
        let control = try recording { () throws(SlotError) in
            BootControl(pair: booted.pair, backend: try bootBackend(booted.pair, false), holding: lock)
        }
        return try body(booted, control)
    }

    /// Runs `body`, remembering its failure as the disk's problem.
    private func recording<T>(_ body: () throws(SlotError) -> T) throws(SlotError) -> T {
        do {
            return try body()
        } catch .diskBusy(let disk, let holder, let waited) {
            // A busy disk is not a broken one: the other writer is done in a moment.
            throw .diskBusy(disk: disk, holder: holder, waitedSeconds: waited)
        } catch {
            last.withLock { $0.problem = error }
            throw error
        }
    }
}
