import Coordination
import FoundationEssentials

/// What the reboot coordinator has been asked to do, what it knows, and the decisions that
/// follow. The coordinator changes it only under its lock, and each decision (to act, to wait,
/// to end the worker) comes out of the same call as the check that justifies it, so a request
/// cannot land between the check and the decision and be lost. A value without threads or
/// clocks, so tests can walk through every order of events.
struct RebootAgenda {
    /// What the worker does next.
    enum Step: Equatable {
        /// Give back this machine's slot of the fleet's lock.
        case release
        /// `version` waits for the reboot window, which opens at `opening`.
        case awaitWindow(version: String, opening: Date)
        /// Ask for a slot of the fleet's lock, to reboot into `version`.
        case acquire(version: String)
        /// Reboot into `version`, holding the lock if the strategy has one.
        case reboot(version: String)
        /// Nothing is left to do, or the coordinator stops: the worker ends, and the next
        /// request starts a new one.
        case finish
    }

    let window: RebootWindow?
    let usesLock: Bool
    /// The version waiting for its reboot.
    private(set) var pending: String?
    /// Whether this machine holds a slot of the fleet's lock.
    private(set) var held: Bool
    /// The blessing (or a normal boot) asked for the slot back, and it is not back yet.
    private(set) var releaseWanted = false
    private(set) var stopping = false
    /// A worker runs: set by the request that starts it, cleared only by the `finish` it takes.
    private(set) var workerRunning = false
    /// Counts requests: a worker that waits (for a retry, for the window) waits only while it
    /// stays what it was when the worker chose its step, so a request that comes in meanwhile
    /// ends the wait at once.
    private(set) var generation: UInt64 = 0

    init(window: RebootWindow?, usesLock: Bool, held: Bool) {
        self.window = window
        self.usesLock = usesLock
        self.held = held
    }

    /// An update waits for its reboot; a newer one replaces an older. True when the caller must
    /// start a worker.
    mutating func updateReady(_ version: String) -> Bool {
        pending = version
        return request()
    }

    /// The pending update was dropped: nothing to reboot for. A running worker sees it at its
    /// next step; none needs to start.
    mutating func updateDropped() {
        pending = nil
        generation &+= 1
    }

    /// The slot should go back (the new version was blessed). True when the caller must start
    /// a worker. Recorded even when no slot is held now: a slot granted at this very moment is
    /// then given back, and a request that finds none is dropped by the next step.
    mutating func releaseRequested() -> Bool {
        guard usesLock else { return false }
        releaseWanted = true
        return request()
    }

    mutating func stop() {
        stopping = true
        generation &+= 1
    }

    mutating func acquired() {
        held = true
    }

    mutating func released() {
        held = false
        releaseWanted = false
    }

    /// logind took the reboot into `version`. Only that version is done: a newer one that came
    /// in while logind was asked still waits.
    mutating func rebooted(into version: String) {
        if pending == version { pending = nil }
    }

    /// The worker's next step at `now`. `finish` also marks the worker as ended, in the same
    /// call: a request after it starts a new worker; one before it was seen here.
    mutating func nextStep(at now: Date) -> Step {
        if !stopping {
            if releaseWanted {
                if held { return .release }
                releaseWanted = false
            }
            if let version = pending {
                if let window, !window.contains(now) {
                    return .awaitWindow(version: version, opening: window.nextOpening(after: now))
                }
                return usesLock && !held ? .acquire(version: version) : .reboot(version: version)
            }
        }
        workerRunning = false
        return .finish
    }

    private mutating func request() -> Bool {
        generation &+= 1
        guard !workerRunning, !stopping else { return false }
        workerRunning = true
        return true
    }
}
