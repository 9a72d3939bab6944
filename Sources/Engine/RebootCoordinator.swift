import Coordination
import FoundationEssentials
import HTTP
import Logging
import Platform
import Synchronization

/// Reboots the machine into an installed update when the fleet allows it, as locksmithd does
/// for update_engine: inside the reboot window, holding a slot of the fleet's lock (locksmith's
/// etcd semaphore or FleetLock) when the strategy asks for one, through logind. Unlike
/// locksmithd it gives the slot back only once the new version has been blessed, so a version
/// that cannot boot stops the rollout at the first machine instead of walking through the fleet.
///
/// One owner of the state: `agenda`, changed only under `shared`'s lock, decides every step, so
/// that no request is lost between a check and a decision. A worker thread carries the steps
/// out (waits for the window and the lock); it ends when the agenda says so, and is joined by
/// the next start, by `stop`, or detached at the end. Every call to the fleet's lock is made
/// under `lockCalls`, one at a time, with the record of its outcome. Time comes from `clock`,
/// so tests can place the machine inside or outside its window without waiting for it.
public final class RebootCoordinator: Sendable {
    /// Whether this tandemd coordinates the host's reboots.
    enum Role {
        /// `Strategy=off`: it never reboots on its own and leaves coordinator.conf to others.
        case off
        /// coordinator.conf taken and kept up to date; nil only for tests that race the worker
        /// through thousands of rounds, where rewriting the file would be most of the time.
        case coordinating(CoordinatorConf?)
        /// Another coordinator (locksmithd) holds coordinator.conf, or tandemd could not take
        /// it: tandemd takes no reboot lock and never reboots on its own. Says who coordinates.
        case standingDown(String)
    }

    public let settings: RebootSettings
    public let window: RebootWindow?
    let lock: (any RebootLock)?
    let role: Role
    private let clock: any HostClock
    private let persistHeld: @Sendable (Bool) -> Void
    private let log: Logger

    /// What the worker and the callers share. Never held across I/O.
    private struct Shared {
        var agenda: RebootAgenda
        var phase = CoordinationPhase.idle
        var message = ""
        /// The latest worker thread, until it is joined (or detached at deinit).
        var worker: JoinableThread?
        var rebooter: (@Sendable (_ version: String?) -> String?)?
        var observer: (@Sendable () -> Void)?
    }

    private let shared: Mutex<Shared>
    /// What the worker sleeps on. A change that must end its sleep (a new request, the stop) is
    /// made holding `wake`, so that it cannot fall between the worker's look at the agenda and
    /// its wait; `wake` is taken before `shared`, never inside it.
    private let wake = Condition()
    /// Raised by `stop`: ends a lock exchange in flight (FleetLock allows a server 30 minutes).
    private let stopSignal: CancellationSignal
    /// Held around every call to the fleet's lock and the record of its outcome, so that the
    /// records follow the lock's answers in order; taken before the others, never inside them.
    private let lockCalls = Mutex(())

    /// - Parameters:
    ///   - machineID: the holder id in the lock (locksmith's raw /etc/machine-id); needed by the
    ///     lock strategies only.
    ///   - held: whether this machine holds a slot of the lock, as recorded before a restart.
    ///   - persistHeld: records a change of `held`, so that it survives the reboot.
    public convenience init(settings: RebootSettings, machineID: String?, held: Bool, clock: any HostClock = SystemClock(),
                            lock injected: (any RebootLock)? = nil, persistHeld: @escaping @Sendable (Bool) -> Void,
                            logger: Logger) throws(UpdaterError) {
        try self.init(settings: settings, machineID: machineID, held: held, clock: clock, lock: injected, role: nil,
                      persistHeld: persistHeld, logger: logger)
    }

    /// `role`: nil takes coordinator.conf as `settings` say.
    init(settings: RebootSettings, machineID: String?, held: Bool, clock: any HostClock, lock injected: (any RebootLock)?,
         role given: Role?, persistHeld: @escaping @Sendable (Bool) -> Void, logger: Logger) throws(UpdaterError) {
        self.settings = settings
        self.clock = clock
        self.persistHeld = persistHeld
        log = logger
        let configuredWindow: RebootWindow?
        do throws(RebootWindowError) {
            configuredWindow = try RebootWindow.configured(start: settings.windowStart, length: settings.windowLength)
        } catch {
            throw UpdaterError.startup("[Reboot] WindowStart=/WindowLength=: \(error)")
        }
        window = configuredWindow
        let stopSignal = CancellationSignal()
        self.stopSignal = stopSignal
        if let injected {
            lock = injected
        } else {
            lock = try RebootCoordinator.makeLock(settings, machineID: machineID, cancellation: stopSignal)
        }
        role = given ?? RebootCoordinator.takeRole(settings, logger: logger)
        var shared = Shared(agenda: RebootAgenda(window: configuredWindow, usesLock: lock != nil, held: held))
        if case let .standingDown(text) = role {
            shared.phase = .standingDown
            shared.message = text
        }
        self.shared = Mutex(shared)
    }

    deinit {
        if case let .coordinating(conf?) = role { conf.close() }
        // The last worker ended (it holds this object while it runs) but was not joined.
        shared.withLock { $0.worker }?.detach()
    }

    /// Takes coordinator.conf for a strategy that reboots. If another coordinator holds it, or
    /// it cannot be taken (so nobody can tell whether another runs), two coordinators could
    /// reboot the host twice or behind each other's backs: tandemd stands down.
    private static func takeRole(_ settings: RebootSettings, logger: Logger) -> Role {
        guard settings.strategy != .off else { return .off }
        let path = settings.coordinatorConf
        do {
            let conf = try CoordinatorConf(path: path, strategy: settings.strategy)
            try conf.update(.running)
            return .coordinating(conf)
        } catch {
            let who: String
            if case let .heldByAnother(_, name) = error {
                let holder = FlockHolder.holding(path)
                who = "\(name ?? holder?.command ?? "another program")\(holder.map { " (pid \($0.pid))" } ?? "") holds \(path) "
                    + "and coordinates reboots on this host"
            } else {
                who = "tandemd cannot take \(path) (\(error)), so it cannot tell whether another coordinator runs"
            }
            let text = "standing down: \(who); tandemd takes no reboot lock and does not reboot on its own (Strategy="
                + "\(settings.strategy) in [Reboot]). To let tandemd coordinate, stop and mask the other coordinator "
                + "(systemctl mask --now locksmithd.service) and restart tandemd"
            logger.error("\(text)")
            return .standingDown(who)
        }
    }

    static func makeLock(_ settings: RebootSettings, machineID: String?,
                         cancellation: any TransferCancellation) throws(UpdaterError) -> (any RebootLock)? {
        guard settings.strategy == .etcdLock || settings.strategy == .fleetLock else { return nil }
        guard let machineID else {
            throw .startup("Strategy=\(settings.strategy) in [Reboot] needs this machine's id (/etc/machine-id) as its lock "
                + "holder id; run systemd-machine-id-setup")
        }
        do {
            if settings.strategy == .fleetLock {
                return try FleetLockClient(baseURL: settings.fleetLockURL ?? "", id: machineID, group: settings.group ?? "default",
                                           cancellation: cancellation)
            }
            let options = HTTPOptions(caBundle: settings.etcdCAFile, clientCertificate: settings.etcdCertFile,
                                            clientKey: settings.etcdKeyFile, connectTimeoutSeconds: 5, timeoutSeconds: 30,
                                            responseLimit: 1 << 20)
            let credentials = settings.etcdUsername.map {
                EtcdConnection.Credentials(username: $0, password: settings.etcdPassword ?? "")
            }
            let connection = try EtcdConnection(endpoints: settings.etcdEndpoints, options: options, credentials: credentials,
                                                cancellation: cancellation)
            let store: any SemaphoreStore = switch settings.etcdAPI {
            case .v2: EtcdV2Store(connection: connection, group: settings.group ?? "")
            case .v3: EtcdV3Store(connection: connection, group: settings.group ?? "")
            }
            return try LocksmithLock(store: store, holder: machineID)
        } catch {
            throw .startup("[Reboot]: \(error)")
        }
    }

    /// How tandemd reboots: logind's `Reboot`, given by the daemon, which owns the bus. It gets
    /// the version rebooted into (nil for `updatectl reboot`) and returns nil once logind
    /// accepted, or why not.
    public func setRebooter(_ rebooter: @escaping @Sendable (_ version: String?) -> String?) {
        shared.withLock { $0.rebooter = rebooter }
    }

    /// Called after every change of what `status` shows.
    public func observe(_ observer: @escaping @Sendable () -> Void) {
        shared.withLock { $0.observer = observer }
    }

    public var status: CoordinationStatus {
        shared.withLock {
            CoordinationStatus(strategy: settings.strategy, phase: $0.phase, window: window?.description ?? "",
                               lockHeld: $0.agenda.held, message: $0.message)
        }
    }

    /// Whether this tandemd reboots on its own: a strategy that reboots, and coordinator.conf
    /// taken.
    private var coordinating: Bool {
        if case .coordinating = role { return true }
        return false
    }

    /// An update waits for its reboot: with a strategy that reboots, start on the way there.
    func updateReady(version: String) {
        guard coordinating else { return }
        let finished = changeAgenda { $0.agenda.updateReady(version) ? startWorker(&$0) : nil }
        finished?.join()
    }

    /// The pending update was dropped (rollback, mark): nothing to reboot for.
    func updateDropped() {
        changeAgenda { $0.agenda.updateDropped() }
    }

    /// What the start-up found this boot to be. A slot held since before the reboot is given
    /// back once the new version proves itself (blessed), or at once on a normal boot; on a
    /// trial it is kept until the blessing, and after a fallback it is kept on purpose: the
    /// failed version must not reach the next machine before someone looks (`updatectl lock
    /// release`). Standing down, the lock is the other coordinator's business.
    func bootAssessed(_ kind: BootReport.Kind?) {
        guard coordinating, lock != nil else { return }
        switch kind {
        case .trial?, .unknown?:
            // An unknown kind comes from a newer tandemd's state (never from `assessBoot`):
            // held, as on trial, since only a blessing proves the boot.
            guard isHeld else { return }
            update(.holding, "holding the reboot lock until this trial boot is blessed")
        case .fallback?, .noBootableSlot?:
            guard isHeld else { return }
            update(.holding, "holding the reboot lock: the update failed to boot here, so the rest of the fleet waits; "
                + "after looking into it, updatectl lock release gives the slot back")
            let text = "keeping this machine's slot of the reboot lock after a failed update, so that the fleet does not "
                + "reboot into it: updatectl lock release gives it back"
            log.error("\(text)")
        case .normal?, .blessed?, nil:
            releaseWhenPossible()
        }
    }

    /// The trial boot was blessed: give the slot back.
    func blessed() {
        guard coordinating else { return }
        releaseWhenPossible()
    }

    private func releaseWhenPossible() {
        let finished = changeAgenda { $0.agenda.releaseRequested() ? startWorker(&$0) : nil }
        finished?.join()
    }

    /// `updatectl reboot`: the same path, at once: inside the window (unless forced), holding the
    /// lock. Returns nil when logind accepted the reboot, else why not. Standing down, it is
    /// refused unless forced; forced, it reboots through logind without the fleet's lock, which
    /// belongs to the other coordinator's way of rebooting.
    public func rebootNow(force: Bool) -> String? {
        if case let .standingDown(who) = role {
            guard force else {
                return "tandemd does not coordinate reboots here: \(who); use --force to reboot now through logind, "
                    + "without the fleet's reboot lock"
            }
            return reboot(into: nil)
        }
        if !force, let window, !window.contains(clock.now()) {
            return "outside the reboot window (\(window)); it opens at \(Self.format(window.nextOpening(after: clock.now()))); "
                + "use --force to reboot anyway"
        }
        if let lock {
            let refusal: String? = lockCalls.withLock { _ in
                guard !isHeld else { return nil }
                do {
                    switch try lock.acquire() {
                    case .granted:
                        recordHeld(true)
                        return nil
                    case let .notYet(refusal):
                        return "the fleet's reboot lock is not free: \(refusal); tandemd keeps trying on its own while an "
                            + "update waits (updatectl lock status shows who holds it)"
                    }
                } catch {
                    return "cannot take the reboot lock: \(error)"
                }
            }
            if let refusal { return refusal }
        }
        return reboot(into: nil)
    }

    /// Who holds the fleet's lock; nil when the strategy has no lock or the backend cannot say.
    public func lockStatus() throws(UpdaterError) -> LockStatus? {
        guard let lock else { return nil }
        do {
            return try lock.status()
        } catch {
            throw .rebootLockRead(error)
        }
    }

    /// The administrator's override: gives back the slot of `holder` (a dead machine's), or
    /// this machine's when nil.
    public func release(holder: String?) throws(UpdaterError) -> String {
        guard let lock else {
            throw .refused("Strategy=\(settings.strategy) in [Reboot] uses no lock; there is nothing to release")
        }
        if holder != nil, lock is FleetLockClient {
            throw .refused("a FleetLock server releases only its own client's slot; release another machine's on the server")
        }
        do throws(RebootLockError) {
            if let holder, let locksmith = lock as? LocksmithLock, holder != locksmith.holder {
                return try locksmith.unlock(holder: holder)
                    ? "released \(holder)'s slot of the reboot lock" : "\(holder) holds no slot of the reboot lock"
            }
            let attempt = try lockCalls.withLock { (_) throws(RebootLockError) -> ReleaseAttempt in
                let attempt = try lock.release()
                if case .notYet = attempt {} else { recordHeld(false) }
                return attempt
            }
            switch attempt {
            case .released:
                if case .standingDown = role {} else { update(.idle, "") }
                return "released this machine's slot of the reboot lock"
            case .notHeld:
                if case .standingDown = role {} else { update(.idle, "") }
                return "this machine holds no slot of the reboot lock; nothing was released"
            case let .notYet(refusal):
                return "the lock server did not acknowledge the release yet: \(refusal)"
            }
        } catch {
            throw .rebootLockRelease(error)
        }
    }

    /// Ends the worker (after the step it is in) and waits for it; nothing starts afterwards.
    func stop() {
        stopSignal.cancel()
        let running = changeAgenda { shared in
            shared.agenda.stop()
            defer { shared.worker = nil }
            return shared.worker
        }
        running?.join()
    }

    private var isHeld: Bool {
        shared.withLock { $0.agenda.held }
    }

    /// Changes the agenda and wakes the worker, holding `wake` so that the change cannot fall
    /// between the worker's look at the agenda and its sleep.
    private func changeAgenda<T>(_ change: (inout Shared) -> T) -> T {
        wake.locked {
            defer { wake.broadcast() }
            return shared.withLock { change(&$0) }
        }
    }

    // MARK: - The worker

    /// In the same critical section in which the agenda asked for a worker: starts it. Returns
    /// the previous one, which took its `finish` and only returns, for the caller to join once
    /// the lock is released.
    private func startWorker(_ shared: inout Shared) -> JoinableThread? {
        let finished = shared.worker
        shared.worker = JoinableThread { [self] in run() }
        return finished
    }

    private func run() {
        var retry = Double(settings.lockRetrySeconds)
        while true {
            let (step, generation) = shared.withLock { ($0.agenda.nextStep(at: clock.now()), $0.agenda.generation) }
            switch step {
            case .finish:
                return
            case .release:
                if releaseSlot() {
                    retry = Double(settings.lockRetrySeconds)
                } else {
                    retry = pause(retry, since: generation)
                }
            case let .awaitWindow(version, opening):
                update(.waitingForWindow, "version \(version) waits for the reboot window (\(window?.description ?? "")), "
                    + "which opens at \(Self.format(opening))")
                // Looked at again at least every minute, in case the wall clock was set.
                sleep(min(max(opening.timeIntervalSince(clock.now()), 1), 60), since: generation)
            case let .acquire(version):
                if !acquireSlot(for: version) { retry = pause(retry, since: generation) }
            case let .reboot(version):
                if let failure = reboot(into: version) {
                    log.error("cannot reboot into version \(version): \(failure)")
                    retry = pause(retry, since: generation)
                } else {
                    shared.withLock { $0.agenda.rebooted(into: version) }
                }
            }
        }
    }

    /// One try at giving the slot back; true once it is.
    private func releaseSlot() -> Bool {
        guard let lock else { return false }
        update(.releasing, "giving back this machine's slot of the reboot lock")
        let outcome: Result<ReleaseAttempt, RebootLockError> = lockCalls.withLock { _ in
            do throws(RebootLockError) {
                let attempt = try lock.release()
                if case .notYet = attempt {} else { recordHeld(false) }
                return .success(attempt)
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(.released), .success(.notHeld):
            update(.idle, "")
            log.notice("released this machine's slot of the reboot lock")
            return true
        case let .success(.notYet(refusal)):
            update(.releasing, "the lock server did not acknowledge the release yet: \(refusal)")
        case let .failure(error):
            update(.releasing, "cannot give back the reboot lock yet: \(error)")
            log.warning("cannot give back the reboot lock yet: \(error)")
        }
        return false
    }

    /// One try at taking a slot, with the window open; true once it is held.
    private func acquireSlot(for version: String) -> Bool {
        guard let lock else { return false }
        update(.waitingForLock, "version \(version) waits for a slot of the fleet's reboot lock")
        let outcome: Result<LockAttempt, RebootLockError> = lockCalls.withLock { _ in
            do throws(RebootLockError) {
                let attempt = try lock.acquire()
                if attempt == .granted { recordHeld(true) }
                return .success(attempt)
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(.granted):
            log.notice("took a slot of the fleet's reboot lock", metadata: ["strategy": "\(settings.strategy)"])
            return true
        case let .success(.notYet(refusal)):
            update(.waitingForLock, "version \(version) waits for the fleet's reboot lock: \(refusal)")
        case let .failure(error):
            update(.waitingForLock, "version \(version) waits: cannot take the reboot lock: \(error)")
            log.warning("cannot take the reboot lock: \(error)")
        }
        return false
    }

    /// Reboots through the daemon's rebooter, with the lock held if there is one.
    private func reboot(into version: String?) -> String? {
        guard let rebooter = shared.withLock({ $0.rebooter }) else { return "tandemd cannot reach logind" }
        // Standing down, the status keeps saying who coordinates.
        if case .standingDown = role { return rebooter(version) }
        update(.rebooting, version.map { "rebooting into version \($0)" } ?? "rebooting")
        if let failure = rebooter(version) {
            update(isHeld ? .holding : .idle, "the reboot failed: \(failure)")
            return failure
        }
        return nil
    }

    /// Waits `seconds` of `clock`, or until a request since `generation`; returns the next,
    /// doubled, wait, at most 5 minutes.
    private func pause(_ seconds: Double, since generation: UInt64) -> Double {
        sleep(seconds, since: generation)
        return min(seconds * 2, 300)
    }

    /// Sleeps up to `seconds`, unless the agenda changed since the worker chose its step: the
    /// check and the wait are one critical section, so no request slips in between.
    private func sleep(_ seconds: Double, since generation: UInt64) {
        wake.locked {
            _ = clock.wait(on: wake, seconds: seconds) {
                shared.withLock { $0.agenda.generation != generation || $0.agenda.stopping }
            }
        }
    }

    /// Called with `lockCalls` held, so records follow the lock's answers in order.
    private func recordHeld(_ value: Bool) {
        shared.withLock { value ? $0.agenda.acquired() : $0.agenda.released() }
        persistHeld(value)
    }

    private func update(_ newPhase: CoordinationPhase, _ text: String) {
        let observer = shared.withLock {
            $0.phase = newPhase
            $0.message = text
            return $0.observer
        }
        let state: CoordinatorState = switch newPhase {
        case .idle, .holding, .releasing, .standingDown: .running
        case .waitingForWindow, .waitingForLock: .rebootPlanned
        case .rebooting: .rebooting
        }
        if case let .coordinating(conf?) = role, conf.state != state {
            do { try conf.update(state) } catch { log.warning("cannot update \(conf.path): \(error)") }
        }
        observer?()
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
