import Synchronization

/// The one owner of the host's persisted state (`state.json`) and its copy in memory.
///
/// Every change goes through `commit`: the new state is computed from the current one, written
/// (temp file, fsync, rename: `StateStore`), and only then becomes the state in memory. A write
/// that fails leaves memory as it was, equal to what the disk holds, and the error goes to the
/// caller; it is also kept as `problem` until a later write succeeds, for `status`.
///
/// Readers take a short lock for a copy and never wait for the write: the I/O happens under a
/// second lock that only serializes writers.
final class StateBook: Sendable {
    let store: StateStore
    private let current: Mutex<DaemonState>
    /// Held from computing a change to swapping it in, across the write, so that two changes
    /// cannot both start from the same state and the later one undo the earlier.
    private let writer = Mutex(())
    private let lastFailure = Mutex<StateError?>(nil)

    init(store: StateStore, state: DaemonState) {
        self.store = store
        current = Mutex(state)
    }

    /// A copy of the state as last written (or loaded).
    var state: DaemonState { current.withLock { $0 } }

    /// The last write that failed, while no write has succeeded since.
    var problem: StateError? { lastFailure.withLock { $0 } }

    /// Commits one of the host's transitions (`DaemonState.applying`).
    func commit(_ event: HostEvent) throws(StateError) {
        try commit { $0 = $0.applying(event) }
    }

    /// Applies `change` to a copy of the state, writes the copy and then makes it the state in
    /// memory. Returns what `change` returned. A change that changes nothing writes nothing.
    @discardableResult
    func commit<T>(_ change: (inout DaemonState) -> T) throws(StateError) -> T {
        try writer.withLock { _ throws(StateError) -> T in
            var next = state
            let before = next
            let result = change(&next)
            guard next != before else { return result }
            do throws(StateError) {
                try store.save(next)
            } catch {
                lastFailure.withLock { $0 = error }
                throw error
            }
            lastFailure.withLock { $0 = nil }
            current.withLock { $0 = next }
            return result
        }
    }
}
