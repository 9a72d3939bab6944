/// locksmith's reboot lock on one host: read the semaphore, change it, and write it back only
/// if nobody wrote in between (compare-and-swap); after a lost race wait (backing off as
/// locksmith does) and start again from the read. A missing key is created with locksmith's
/// initial value, one slot, as locksmith's `Init` does.
///
/// A host that dies while holding a slot keeps it: nothing expires. Its own next boot releases
/// it (as locksmithd does at start), or an administrator does with `unlock(holder:)`.
public struct LocksmithLock: RebootLock {
    public let store: any SemaphoreStore
    /// This host's ID: its `/etc/machine-id`, trimmed, as locksmith uses.
    public let holder: String
    public let retry: RetryPolicy

    public init(store: any SemaphoreStore, holder: String, retry: RetryPolicy = RetryPolicy()) throws(LockConfigurationError) {
        guard !holder.isEmpty else { throw .emptyID }
        self.store = store
        self.holder = holder
        self.retry = retry
    }

    public func acquire() throws(RebootLockError) -> LockAttempt {
        do {
            switch try lock(holder: holder) {
            case .locked, .alreadyHeld:
                return .granted
            case let .full(semaphore, holders):
                let by = holders.isEmpty ? "" : ", held by \(holders.joined(separator: ", "))"
                return .notYet(LockRefusal(kind: "semaphore_full", message: "no reboot slot is free (semaphore at \(semaphore)\(by))"))
            }
        } catch let error {
            guard case .contended = error else { throw error }
            return .notYet(LockRefusal(kind: "contended", message: error.description))
        }
    }

    public func release() throws(RebootLockError) -> ReleaseAttempt {
        do {
            return try unlock(holder: holder) ? .released : .notHeld
        } catch let error {
            guard case .contended = error else { throw error }
            return .notYet(LockRefusal(kind: "contended", message: error.description))
        }
    }

    /// A key nobody has created yet reads as locksmith's initial value, which the first lock
    /// attempt will write: one slot, free.
    public func status() throws(RebootLockError) -> LockStatus? {
        let value = try store.get()?.value ?? .initial
        return LockStatus(available: value.semaphore, max: value.max, holders: value.holders)
    }

    /// Takes a slot for any ID (`locksmithctl lock [id]`).
    public func lock(holder: String) throws(RebootLockError) -> LocksmithSemaphore.LockResult {
        try modify { semaphore in
            let result = semaphore.lock(holder)
            return (result, result == .locked)
        }
    }

    /// Releases any ID's slot (`locksmithctl unlock [id]`), such as that of a host that died
    /// holding it; false if that ID held none.
    public func unlock(holder: String) throws(RebootLockError) -> Bool {
        try modify { semaphore in
            let removed = semaphore.unlock(holder)
            return (removed, removed)
        }
    }

    /// Changes the number of slots (`locksmithctl set-max`); returns the old and the new limit.
    @discardableResult
    public func setMax(_ max: Int) throws(RebootLockError) -> (old: Int, new: Int) {
        try modify { semaphore in
            let old = semaphore.max
            semaphore.setMax(max)
            return ((old, max), old != max)
        }
    }

    /// Read, change, compare-and-swap, until a write succeeds or the change needs none.
    /// `change` returns its result and whether the value must be written.
    private func modify<Result>(_ change: (inout LocksmithSemaphore) -> (Result, write: Bool)) throws(RebootLockError) -> Result {
        var conflicts = 0
        while true {
            if let current = try store.get() {
                var value = current.value
                let (result, write) = change(&value)
                if !write { return result }
                if try store.compareAndSwap(value, expecting: current.version) { return result }
                conflicts += 1
                guard conflicts < retry.maximumConflicts else { throw .contended(key: store.key, attempts: conflicts) }
                retry.sleep(retry.delay(afterConflict: conflicts))
            } else {
                // Created even when the change writes nothing, as locksmith's Init does, so that
                // status and the other hosts see the key.
                var value = LocksmithSemaphore.initial
                let (result, _) = change(&value)
                if try store.create(value) { return result }
                // Another host created it first: read theirs at once, there is nothing to wait for.
                conflicts += 1
                guard conflicts < retry.maximumConflicts else { throw .contended(key: store.key, attempts: conflicts) }
            }
        }
    }
}
