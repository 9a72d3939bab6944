/// A fleet-wide permission to reboot, as the daemon uses it: take a slot before rebooting, give
/// it back once the new version has booted. Implemented by `LocksmithLock` (locksmith's etcd
/// semaphore) and `FleetLockClient` (Zincati's FleetLock protocol).
///
/// "Not yet" is an answer, not an error: the fleet is busy, and the caller tries again later
/// (after checking its reboot window again, as locksmithd does). Errors are for what a person
/// has to fix or wait out: an unreachable server, a corrupt semaphore, refused credentials.
public protocol RebootLock: Sendable {
    /// Asks for a reboot slot for this host.
    func acquire() throws(RebootLockError) -> LockAttempt
    /// Gives this host's slot back.
    func release() throws(RebootLockError) -> ReleaseAttempt
    /// Who holds the lock, if the backend can say (FleetLock cannot: nil).
    func status() throws(RebootLockError) -> LockStatus?
}

public enum LockAttempt: Equatable, Sendable {
    /// The slot is this host's (it may have held it already): reboot now.
    case granted
    case notYet(LockRefusal)
}

public enum ReleaseAttempt: Equatable, Sendable {
    case released
    /// This host held no slot, so there was nothing to release.
    case notHeld
    /// The release was not acknowledged; try again.
    case notYet(LockRefusal)
}

/// Why the lock was not granted or released this time.
public struct LockRefusal: Equatable, Sendable, CustomStringConvertible {
    /// A short identifier that stays the same from one refusal to the next, for metrics and
    /// tests: FleetLock's `kind` (`lock_held`, `failed_lock`, `generic_http_500`, ...), or
    /// `semaphore_full` and `contended` for etcd.
    public let kind: String
    /// For people: FleetLock's `value`, or what the semaphore looked like.
    public let message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message.isEmpty ? kind : "\(message) (\(kind))" }
}

/// What `locksmithctl status` shows: free slots, the limit, and who holds the others.
public struct LockStatus: Equatable, Sendable {
    /// Negative after the limit was lowered below the number of holders.
    public let available: Int
    public let max: Int
    public let holders: [String]

    public init(available: Int, max: Int, holders: [String]) {
        self.available = available
        self.max = max
        self.holders = holders
    }
}
