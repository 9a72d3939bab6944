import Logging
import Omaha
import Platform
import Slots
import Streaming
import Verification
import Synchronization

/// What observers hear. `changed` may be coalesced by the listener; `completed` never is.
public enum UpdaterEvent: Sendable {
    /// The state right after a change: listeners that must not miss a transition (update_engine's
    /// StatusUpdate) use it rather than reading the state later.
    case changed(UpdaterStatus)
    case completed(ResultRecord)
}

/// The update process of one host: the booted slot, the other slot, the transaction running
/// now and what is remembered in the state directory.
///
/// A facade over small owners, each behind a lock of its own that is never held across I/O, so
/// that queries (`status()`) never wait and the bus thread stays responsive while an install
/// streams:
/// - `StateBook`: the saved state; every change is one commit, written before memory moves on.
/// - `BootAssessment`: what this boot is, a pure function; the slot re-hash runs before it.
/// - `TransactionRunner`: the transaction in flight on its worker thread, cancel and stop.
/// - `cache`: the boot flags as last read, the update channel, the check schedule.
public final class Updater: Sendable {
    public let configuration: Configuration
    public let policy: AdminPolicy
    /// The disk holding the slots, probed again for each operation; its lock serializes writes.
    let slotDisk: SlotDisk
    let host: HostIdentity
    let trust: TrustStore
    /// The persisted state: every change to it is one `commit` that writes before memory moves.
    let book: StateBook
    let bootID: String
    let log: Logger
    /// The wall clock that stamps the records and drives the schedule and the reboot window.
    let clock: any HostClock
    /// Reboots into installed updates when the fleet allows it (`[Reboot]`).
    public let coordinator: RebootCoordinator

    /// The transaction in flight, its worker thread and what stops it.
    let runner = TransactionRunner()

    /// What this host knows besides the saved state, behind a lock never held across I/O.
    struct Cache {
        var table: BootTable
        /// What the bootloader recorded about the running boot, as last read with `table` (nil
        /// for backends whose bootloader records nothing).
        var recordedBoot: LastBoot?
        var tableReadAt = 0.0
        /// Whether this boot was assessed (`assessBoot`): not yet while the disk has never been read.
        var bootAssessed = false
        /// Where updates come from, as last worked out (`refreshChannel`).
        var channel = UpdateChannel.none
        var scheduler: UpdateScheduler
        /// Arms the daemon's timer for the next automatic check, `delay` seconds from now.
        var armCheckTimer: (@Sendable (Int) -> Void)?
        var observer: (@Sendable (UpdaterEvent) -> Void)?
    }

    let cache: Mutex<Cache>

    /// Probes the slots, loads the trusted keys and the saved state. Every failure here stops
    /// the daemon with a message saying what to fix, except the disk's: a disk that cannot be
    /// probed or read is reported in `status` and refuses installs and marks until it can.
    ///
    /// `bootBackend` opens the boot backend; nil: the one configured (`[Slots] Backend=`).
    /// Tests pass backends of their own, and clocks they set.
    public init(configuration: Configuration, logger: Logger, bootBackend: BootBackendFactory? = nil,
                clock: any HostClock = SystemClock()) throws(UpdaterError) {
        self.configuration = configuration
        log = logger
        self.clock = clock
        policy = AdminPolicy(groupName: configuration.adminGroup)
        if configuration.bootedSlot != nil, configuration.disk == nil {
            throw .startup("BootedSlot= (or --booted-slot) needs Disk= (or --disk): naming the booted slot is for disks "
                + "that are not running anything, such as image files; on a running system leave both unset")
        }
        slotDisk = SlotDisk(disk: configuration.disk, bootedSlot: configuration.bootedSlot, layout: configuration.layout,
                            bootBackend: bootBackend ?? configuration.boot.factory)
        let table: BootTable
        let recordedBoot: LastBoot?
        do {
            (_, table, recordedBoot) = try slotDisk.readTable()
        } catch {
            table = BootTable(attributes: [:], bootPartitions: [])
            recordedBoot = nil
            let consequence = "tandemd runs, but refuses installs and boot-flag changes until the disk can be read "
                + "(each attempt probes it again); updatectl status shows the problem"
            logger.critical("\(error); \(consequence)")
        }
        do {
            trust = try TrustStore(directories: configuration.keyDirectories)
        } catch {
            throw .startup("\(error)")
        }
        var identity = HostIdentity.fromOSRelease(configuration.osRelease)
        if let compatible = configuration.compatible {
            identity = HostIdentity(compatible: compatible, version: identity?.version)
        }
        guard var identity else {
            throw .startup("cannot tell which bundles fit this system: \(configuration.osRelease) is missing or has no ID; "
                + "set Compatible= in [Host] of \(Configuration.defaultPath)")
        }
        if let version = configuration.version { identity.version = version }
        host = identity
        let store = StateStore(directory: configuration.stateDirectory)
        let loaded: StateStore.Loaded
        do {
            loaded = try store.load()
        } catch {
            throw .state(error)
        }
        var saved = loaded.state
        guard let bootID = HostFacts.bootID(file: configuration.bootIDFile) else {
            throw .startup("cannot read the boot id from \(configuration.bootIDFile): without it a reboot cannot be told "
                + "from a restart, so trial boots and fallbacks would go unnoticed; check BootIDFile= in [Host]")
        }
        self.bootID = bootID
        if let aside = loaded.setAside {
            saved.stateRecovery = StateRecovery(movedTo: aside.path, reason: aside.reason, time: clock.epochSeconds, bootID: bootID)
            let text = "the saved state \(store.path) was unreadable (\(aside.reason)) and was moved aside to \(aside.path); "
                + "starting afresh: the record of an interrupted install, pending reboot or trial is lost"
            log.error("\(text)")
        }
        // The recovery is in memory only until the next commit writes it with the rest.
        let book = StateBook(store: store, state: saved)
        self.book = book
        let scheduler = UpdateScheduler(schedule: CheckSchedule(
            intervalSeconds: configuration.checkIntervalSeconds, jitterSeconds: configuration.checkJitterSeconds,
            initialDelaySeconds: configuration.firstCheckDelaySeconds))
        let channel = (try? UpdateChannel.resolve(configuration, runningVersion: host.version)) ?? .none
        cache = Mutex(Cache(table: table, recordedBoot: recordedBoot, channel: channel, scheduler: scheduler))
        let machineID = try? OmahaHostFacts.gather(root: configuration.root, bootID: bootID).machineID
        coordinator = try RebootCoordinator(
            settings: configuration.reboot, machineID: machineID, held: saved.rebootLockHeld, clock: clock,
            persistHeld: { [book, log] held in
                do {
                    try book.commit(.rebootLockHeld(held))
                } catch {
                    log.error("\(held ? "holding" : "releasing") the fleet's reboot lock was not recorded: \(error)")
                }
            }, logger: logger)
        coordinator.observe { [weak self] in self?.notifyChanged() }
    }

    /// Registers the one observer (the D-Bus layer). Called from worker threads and from
    /// whichever thread made a change.
    public func observe(_ observer: @escaping @Sendable (UpdaterEvent) -> Void) {
        cache.withLock { $0.observer = observer }
    }

    func notify(_ event: UpdaterEvent) {
        let observer = cache.withLock { $0.observer }
        observer?(event)
    }

    func notifyChanged() {
        notify(.changed(status()))
    }

    /// The booted slot as last probed; nil while the disk has never been readable.
    var booted: BootedSlot? { slotDisk.current.booted }

    /// How the booted slot was established, for the start-up log.
    public var bootedEvidence: String {
        let (booted, problem) = slotDisk.current
        return booted?.evidence ?? "unknown: \(problem.map { "\($0)" } ?? "the disk was not probed")"
    }

    public func status() -> UpdaterStatus {
        let (booted, diskProblem) = slotDisk.current
        let saved = book.state
        let stateProblem = book.problem
        let transaction = runner.snapshot
        let running = transaction.record
        return cache.withLock { cache in
            let table = cache.table
            let next = booted.flatMap { booted in table.nextBoot().flatMap { booted.pair.slot(partition: $0)?.name } }
            let slots = (booted?.pair.slots ?? []).map { slot in
                let flags = table[slot.partition.number]
                return SlotStatus(
                    name: slot.name, device: device(of: slot, on: booted?.pair.disk), label: slot.partition.label,
                    partition: slot.partition.number, priority: flags.priority, tries: flags.tries, successful: flags.successful,
                    version: version(of: slot, booted: booted, saved: saved, table: table), booted: slot.name == booted?.slot.name, nextBoot: slot.name == next)
            }
            let pending = pendingReboot(saved, table: table) != nil
            return UpdaterStatus(
                operation: transaction.operation, transaction: running?.id, progress: transaction.progress,
                newVersion: running != nil ? running?.version : (pending ? saved.pendingReboot?.version : nil),
                newSize: running != nil ? running?.imageSize ?? 0 : (pending ? saved.pendingReboot?.imageSize ?? 0 : 0),
                bootedSlot: booted?.slot.name, bootedVersion: host.version, nextBootSlot: next, slots: slots,
                diskProblem: diskProblem.map { "\($0)" },
                lastResult: saved.lastResult, rebootPending: pending, lastCheckTime: saved.lastCheckTime,
                boot: saved.lastBoot?.bootID == bootID ? saved.lastBoot : nil, quarantined: saved.quarantine.entries,
                updates: AutomaticUpdates(
                    strategy: configuration.strategy, channel: cache.channel.kind, address: cache.channel.address,
                    group: cache.channel.group,
                    lastCheck: saved.lastCheck, nextCheckTime: cache.armCheckTimer != nil ? cache.scheduler.nextCheckTime ?? 0 : 0,
                    staged: saved.staged),
                coordination: coordinator.status,
                stateRecovery: saved.stateRecovery?.bootID == bootID ? saved.stateRecovery : nil,
                bootBackend: configuration.boot.kind, stateProblem: stateProblem.map { "\($0)" })
        }
    }

    /// The update waiting for a reboot: the slot put on trial during this boot, while it is
    /// still the bootloader's next choice. A reboot since, a rollback, a mark or an install
    /// that invalidated the slot again ends it.
    func pendingReboot(_ saved: DaemonState) -> PendingReboot? {
        pendingReboot(saved, table: cache.withLock { $0.table })
    }

    func pendingReboot(_ saved: DaemonState, table: BootTable) -> PendingReboot? {
        guard let pending = saved.pendingReboot, pending.bootID == bootID, let booted else { return nil }
        let next = table.nextBoot().flatMap { booted.pair.slot(partition: $0)?.name }
        return next == pending.slot ? pending : nil
    }

    private func device(of slot: Slot, on disk: Disk?) -> String {
        guard let disk else { return "" }
        guard disk.isBlockDevice else { return "\(disk.path) partition \(slot.partition.number)" }
        // Kernel naming: a disk whose name ends in a digit gets a "p" before the number.
        let separator = disk.path.last?.isNumber == true ? "p" : ""
        return disk.path + separator + String(slot.partition.number)
    }

    private func version(of slot: Slot, booted: BootedSlot?, saved: DaemonState, table: BootTable) -> String? {
        if slot.name == booted?.slot.name { return host.version }
        let flags = table[slot.partition.number]
        // A slot invalidated since tandemd wrote it (an interrupted install) no longer holds that version.
        guard flags.isBootable || flags.successful else { return nil }
        return saved.slotVersions[slot.partition.uniqueGUID.description]?.version
    }

    /// Re-reads the boot flags (someone may have run `updatectl disk` or cgpt meanwhile, an
    /// install invalidates its target, the disk may have been repaired or replaced), unless they
    /// were read less than `maximumAge` seconds ago.
    public func refreshSlots(maximumAge: Double = 0.5) {
        let now = MonotonicClock.now()
        guard cache.withLock({ now - $0.tableReadAt >= maximumAge }) else { return }
        let problemBefore = slotDisk.current.problem
        let fresh = try? slotDisk.readTable()
        let changed = cache.withLock { cache in
            cache.tableReadAt = now
            guard let fresh, fresh.table != cache.table || fresh.lastBoot != cache.recordedBoot else { return false }
            (cache.table, cache.recordedBoot) = (fresh.table, fresh.lastBoot)
            return true
        }
        if changed || slotDisk.current.problem != problemBefore { notifyChanged() }
        if fresh != nil { assessBootIfPending() }
    }

    /// The flags as the disk holds them now, for the cache `status` shows; kept as they were
    /// when the disk cannot be read (its problem is then in `status`).
    func rereadTable() {
        guard let fresh = try? slotDisk.readTable() else { return }
        cache.withLock { ($0.table, $0.recordedBoot) = (fresh.table, fresh.lastBoot) }
    }

    /// Commits a change someone asked for: a failed write is their error (`.state`).
    func commitByCaller(_ event: HostEvent) throws(UpdaterError) {
        do {
            try book.commit(event)
        } catch {
            throw .state(error)
        }
    }

    /// Commits a change of a background path (a boot assessment, the end of a transaction), whose
    /// only caller is the daemon itself: a failed write is logged and stays in `status`
    /// (`StateProblem`) until a later write succeeds; memory keeps what the disk holds.
    /// Returns whether the change was recorded.
    @discardableResult
    func commitInBackground(_ what: String, _ event: HostEvent) -> Bool {
        do {
            try book.commit(event)
            return true
        } catch {
            log.error("\(what) was not recorded: \(error)")
            return false
        }
    }
}
