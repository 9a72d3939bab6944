import Coordination
import FoundationEssentials
import HTTP
import Logging
import Platform

/// Reboots the machine into an installed update when the fleet allows it, as locksmithd does
/// for update_engine: inside the reboot window, holding a slot of the fleet's lock (locksmith's
/// etcd semaphore or FleetLock) when the strategy asks for one, through logind. Unlike
/// locksmithd it gives the slot back only once the new version has been blessed, so a version
/// that cannot boot stops the rollout at the first machine instead of walking through the fleet.
///
/// One worker thread waits for the window and the lock; everything else is quick and callable
/// from any thread. Time comes from `clock`, so tests can place the machine inside or outside
/// its window without waiting for it.
public final class RebootCoordinator: @unchecked Sendable {
    public enum Phase: String, Sendable {
        case idle
        case waitingForWindow = "waiting-for-window"
        case waitingForLock = "waiting-for-lock"
        case rebooting
        /// The lock is held across the reboot, until the new version is blessed.
        case holding
        case releasing
    }

    public let settings: RebootSettings
    public let window: RebootWindow?
    let lock: (any RebootLock)?
    private let conf: CoordinatorConf?
    private let clock: @Sendable () -> Date
    private let persistHeld: @Sendable (Bool) -> Void
    private let log: Logger

    private let condition = Condition()
    // Guarded by `condition`.
    private var phase = Phase.idle
    private var pending: String?
    private var held: Bool
    private var releaseWanted = false
    private var message = ""
    private var worker: JoinableThread?
    private var stopping = false
    private var wakeups = 0
    private var rebooter: (@Sendable () -> String?)?
    private var observer: (@Sendable () -> Void)?

    /// - Parameters:
    ///   - machineID: the holder id in the lock (locksmith's raw /etc/machine-id); needed by the
    ///     lock strategies only.
    ///   - held: whether this machine holds a slot of the lock, as recorded before a restart.
    ///   - persistHeld: records a change of `held`, so that it survives the reboot.
    public init(settings: RebootSettings, machineID: String?, held: Bool, clock: @escaping @Sendable () -> Date = { Date() },
                lock injected: (any RebootLock)? = nil, persistHeld: @escaping @Sendable (Bool) -> Void,
                logger: Logger) throws(UpdaterError) {
        self.settings = settings
        self.clock = clock
        self.persistHeld = persistHeld
        self.held = held
        log = logger
        let configuredWindow: RebootWindow?
        do throws(RebootWindowError) {
            configuredWindow = try RebootWindow.configured(start: settings.windowStart, length: settings.windowLength)
        } catch {
            throw UpdaterError.startup("[Reboot] WindowStart=/WindowLength=: \(error)")
        }
        window = configuredWindow
        if let injected {
            lock = injected
        } else {
            lock = try RebootCoordinator.makeLock(settings, machineID: machineID)
        }
        var conf: CoordinatorConf?
        if settings.strategy != .off {
            do {
                conf = try CoordinatorConf(path: settings.coordinatorConf, strategy: settings.strategy)
                try conf?.update(.running)
            } catch {
                // locksmithd (or another tandemd) coordinates this machine: two coordinators
                // would reboot it twice, so this one stands down.
                let text = "not coordinating reboots: \(error); stop the other coordinator (systemctl mask locksmithd) "
                    + "and restart tandemd"
                logger.error("\(text)")
                conf = nil
            }
        }
        self.conf = conf
    }

    deinit {
        conf?.close()
    }

    static func makeLock(_ settings: RebootSettings, machineID: String?) throws(UpdaterError) -> (any RebootLock)? {
        guard settings.strategy == .etcdLock || settings.strategy == .fleetLock else { return nil }
        guard let machineID else {
            throw .startup("Strategy=\(settings.strategy) in [Reboot] needs this machine's id (/etc/machine-id) as its lock "
                + "holder id; run systemd-machine-id-setup")
        }
        do {
            if settings.strategy == .fleetLock {
                return try FleetLockClient(baseURL: settings.fleetLockURL ?? "", id: machineID, group: settings.group ?? "default")
            }
            let options = HTTPClientOptions(caBundle: settings.etcdCAFile, clientCertificate: settings.etcdCertFile,
                                            clientKey: settings.etcdKeyFile, connectTimeoutSeconds: 5, timeoutSeconds: 30,
                                            responseLimit: 1 << 20)
            let credentials = settings.etcdUsername.map {
                EtcdConnection.Credentials(username: $0, password: settings.etcdPassword ?? "")
            }
            let connection = try EtcdConnection(endpoints: settings.etcdEndpoints, options: options, credentials: credentials)
            let store: any SemaphoreStore = switch settings.etcdAPI {
            case .v2: EtcdV2Store(connection: connection, group: settings.group ?? "")
            case .v3: EtcdV3Store(connection: connection, group: settings.group ?? "")
            }
            return try LocksmithLock(store: store, holder: machineID)
        } catch {
            throw .startup("[Reboot]: \(error)")
        }
    }

    /// How tandemd reboots: logind's `Reboot`, given by the daemon, which owns the bus. It
    /// returns nil once logind accepted, or why not.
    public func setRebooter(_ rebooter: @escaping @Sendable () -> String?) {
        condition.locked { self.rebooter = rebooter }
    }

    /// Called after every change of what `status` shows.
    public func observe(_ observer: @escaping @Sendable () -> Void) {
        condition.locked { self.observer = observer }
    }

    public var status: CoordinationStatus {
        condition.locked {
            CoordinationStatus(strategy: settings.strategy.rawValue, phase: phase.rawValue, window: window?.description ?? "",
                               lockHeld: held, message: message)
        }
    }

    /// An update waits for its reboot: with a strategy that reboots, start on the way there.
    func updateReady(version: String) {
        guard settings.strategy != .off else { return }
        condition.locked {
            pending = version
            wakeups += 1
            condition.broadcast()
        }
        startWorker()
    }

    /// The pending update was dropped (rollback, mark): nothing to reboot for.
    func updateDropped() {
        condition.locked {
            pending = nil
            wakeups += 1
            condition.broadcast()
        }
    }

    /// What the start-up found this boot to be. A slot held since before the reboot is given
    /// back once the new version proves itself (blessed), or at once on a normal boot; on a
    /// trial it is kept until the blessing, and after a fallback it is kept on purpose: the
    /// failed version must not reach the next machine before someone looks (`updatectl lock
    /// release`).
    func bootAssessed(_ kind: BootReport.Kind?) {
        let heldNow = condition.locked { held }
        guard heldNow, lock != nil else { return }
        switch kind {
        case .trial?, .unknown?:
            // A kind from a newer tandemd (never passed by `assessBoot`): held, as on trial.
            update(.holding, "holding the reboot lock until this trial boot is blessed")
        case .fallback?, .noBootableSlot?:
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
        guard lock != nil, condition.locked({ held }) else { return }
        releaseWhenPossible()
    }

    private func releaseWhenPossible() {
        condition.locked {
            releaseWanted = true
            wakeups += 1
            condition.broadcast()
        }
        startWorker()
    }

    /// `updatectl reboot`: the same path, at once: inside the window (unless forced), holding the
    /// lock. Returns nil when logind accepted the reboot, else why not.
    public func rebootNow(force: Bool) -> String? {
        if !force, let window, !window.contains(clock()) {
            return "outside the reboot window (\(window)); it opens at \(Self.format(window.nextOpening(after: clock()))); "
                + "use --force to reboot anyway"
        }
        if let lock, !condition.locked({ held }) {
            do {
                switch try lock.acquire() {
                case .granted:
                    recordHeld(true)
                case let .notYet(refusal):
                    return "the fleet's reboot lock is not free: \(refusal); tandemd keeps trying on its own while an update "
                        + "waits (updatectl lock status shows who holds it)"
                }
            } catch {
                return "cannot take the reboot lock: \(error)"
            }
        }
        return reboot()
    }

    /// Who holds the fleet's lock; nil when the strategy has no lock or the backend cannot say.
    public func lockStatus() throws(UpdaterError) -> LockStatus? {
        guard let lock else { return nil }
        do {
            return try lock.status()
        } catch {
            throw .failed("cannot read the reboot lock: \(error)")
        }
    }

    /// The administrator's override: gives back the slot of `holder` (a dead machine's), or
    /// this machine's when nil.
    public func release(holder: String?) throws(UpdaterError) -> String {
        guard let lock else {
            throw .refused("Strategy=\(settings.strategy) in [Reboot] uses no lock; there is nothing to release")
        }
        do {
            if let holder, let locksmith = lock as? LocksmithLock, holder != locksmith.holder {
                return try locksmith.unlock(holder: holder)
                    ? "released \(holder)'s slot of the reboot lock" : "\(holder) holds no slot of the reboot lock"
            }
            if holder != nil, lock is FleetLockClient {
                throw UpdaterError.refused("a FleetLock server releases only its own client's slot; release another "
                    + "machine's on the server")
            }
            switch try lock.release() {
            case .released, .notHeld:
                recordHeld(false)
                update(.idle, "")
                return "released this machine's slot of the reboot lock"
            case let .notYet(refusal):
                return "the lock server did not acknowledge the release yet: \(refusal)"
            }
        } catch let error as UpdaterError {
            throw error
        } catch {
            throw .failed("cannot release the reboot lock: \(error)")
        }
    }

    func stop() {
        let running = condition.locked {
            stopping = true
            condition.broadcast()
            return worker
        }
        running?.join()
    }

    // MARK: - The worker

    private func startWorker() {
        condition.locked {
            guard worker == nil, !stopping else { return }
            worker = JoinableThread { [self] in run() }
        }
    }

    private func run() {
        var retry = Double(settings.lockRetrySeconds)
        while true {
            let (version, wantRelease, isHeld, done) = condition.locked {
                (pending, releaseWanted, held, stopping || (pending == nil && !releaseWanted))
            }
            if done {
                condition.locked { worker = nil }
                return
            }
            if wantRelease, let lock, isHeld {
                update(.releasing, "giving back this machine's slot of the reboot lock")
                do {
                    switch try lock.release() {
                    case .released, .notHeld:
                        recordHeld(false)
                        condition.locked { releaseWanted = false }
                        update(.idle, "")
                        log.notice("released this machine's slot of the reboot lock")
                        retry = Double(settings.lockRetrySeconds)
                        continue
                    case let .notYet(refusal):
                        update(.releasing, "the lock server did not acknowledge the release yet: \(refusal)")
                    }
                } catch {
                    update(.releasing, "cannot give back the reboot lock yet: \(error)")
                    log.warning("cannot give back the reboot lock yet: \(error)")
                }
                retry = pause(retry)
                continue
            }
            if wantRelease { condition.locked { releaseWanted = false } }
            guard let version else { continue }

            let now = clock()
            if let window, !window.contains(now) {
                let opening = window.nextOpening(after: now)
                update(.waitingForWindow, "version \(version) waits for the reboot window (\(window)), which opens at "
                    + Self.format(opening))
                _ = sleep(min(max(opening.timeIntervalSince(now), 1), 60))
                continue
            }
            if let lock, !isHeld {
                update(.waitingForLock, "version \(version) waits for a slot of the fleet's reboot lock")
                do {
                    switch try lock.acquire() {
                    case .granted:
                        recordHeld(true)
                        log.notice("took a slot of the fleet's reboot lock", metadata: ["strategy": "\(settings.strategy)"])
                    case let .notYet(refusal):
                        update(.waitingForLock, "version \(version) waits for the fleet's reboot lock: \(refusal)")
                        retry = pause(retry)
                        continue
                    }
                } catch {
                    update(.waitingForLock, "version \(version) waits: cannot take the reboot lock: \(error)")
                    log.warning("cannot take the reboot lock: \(error)")
                    retry = pause(retry)
                    continue
                }
            }
            if let failure = reboot() {
                log.error("cannot reboot into version \(version): \(failure)")
                retry = pause(retry)
                continue
            }
            condition.locked { pending = nil }
        }
    }

    /// Reboots through the daemon's rebooter, with the lock held if there is one.
    private func reboot() -> String? {
        guard let rebooter = condition.locked({ rebooter }) else { return "tandemd cannot reach logind" }
        update(.rebooting, "rebooting")
        if let failure = rebooter() {
            update(condition.locked { held } ? .holding : .idle, "the reboot failed: \(failure)")
            return failure
        }
        return nil
    }

    /// Waits `seconds` (or until woken); returns the next, doubled, wait, at most 5 minutes.
    private func pause(_ seconds: Double) -> Double {
        _ = sleep(seconds)
        return min(seconds * 2, 300)
    }

    /// Sleeps up to `seconds`; true when woken early by a change or a stop.
    private func sleep(_ seconds: Double) -> Bool {
        condition.locked {
            let start = wakeups
            return condition.wait(seconds: seconds) { wakeups != start || stopping }
        }
    }

    private func recordHeld(_ value: Bool) {
        condition.locked { held = value }
        persistHeld(value)
    }

    private func update(_ newPhase: Phase, _ text: String) {
        let observer = condition.locked {
            phase = newPhase
            message = text
            return self.observer
        }
        let state: CoordinatorState = switch newPhase {
        case .idle, .holding, .releasing: .running
        case .waitingForWindow, .waitingForLock: .rebootPlanned
        case .rebooting: .rebooting
        }
        if let conf, conf.state != state {
            do { try conf.update(state) } catch { log.warning("cannot update \(conf.path): \(error)") }
        }
        observer?()
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// What `updatectl status` and the `Coordination` property show.
public struct CoordinationStatus: Sendable, Equatable {
    public var strategy: String
    public var phase: String
    /// The window as configured, `""` without one.
    public var window: String
    public var lockHeld: Bool
    public var message: String

    public init(strategy: String = "off", phase: String = "idle", window: String = "", lockHeld: Bool = false, message: String = "") {
        self.strategy = strategy
        self.phase = phase
        self.window = window
        self.lockHeld = lockHeld
        self.message = message
    }
}
