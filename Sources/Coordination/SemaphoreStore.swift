/// The semaphore's value and the version that a conditional write must name.
public struct VersionedSemaphore: Equatable, Sendable {
    public let value: LocksmithSemaphore
    /// The v2 node's `modifiedIndex`, or the v3 key's `version`.
    public let version: UInt64

    public init(value: LocksmithSemaphore, version: UInt64) {
        self.value = value
        self.version = version
    }
}

/// Where the semaphore lives: etcd's v2 keys API (what shipped locksmithd uses) or its v3 API.
/// The two keyspaces are separate, so every host of a group must use the same one.
public protocol SemaphoreStore: Sendable {
    /// The etcd key, for messages.
    var key: String { get }
    /// The current value, or nil if the key does not exist.
    func get() throws(RebootLockError) -> VersionedSemaphore?
    /// Writes `value` only if the key does not exist; false if it did.
    func create(_ value: LocksmithSemaphore) throws(RebootLockError) -> Bool
    /// Writes `value` only if the key is still at `version`; false if someone wrote (or
    /// deleted) it since.
    func compareAndSwap(_ value: LocksmithSemaphore, expecting version: UInt64) throws(RebootLockError) -> Bool
}
