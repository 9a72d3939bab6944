import HTTP
import Platform
import Streaming
import Synchronization

/// Runs the host's transactions, one at a time, each on a worker thread of its own, and owns
/// what stops them: a cancel by someone, or the service stopping. It also holds what `status`
/// shows of the one in flight (the operation, the progress), behind a lock of its own that is
/// never held across I/O.
final class TransactionRunner: Sendable {
    /// The transaction in flight, with what stops it.
    struct Running {
        var record: TransactionRecord
        /// A check only: a cancel does not reach it (it ends by itself), a service stop does.
        var isCheck: Bool
        var installer: Installer?
        var stopReason: StopReason?
        /// Raised when the service stops: ends the transaction's exchanges with update servers
        /// and a check's download, in flight or waiting to retry.
        let stopSignal = CancellationSignal()
    }

    enum StopReason: Equatable {
        case cancelled(uid: UInt32?)
        case shutdown
    }

    /// What `status` shows of the transaction in flight.
    struct Snapshot {
        var operation: UpdateOperation
        var progress: ProgressReport
        var record: TransactionRecord?
    }

    private struct State {
        var running: Running?
        var operation = UpdateOperation.idle
        var progress = ProgressReport.none
        var worker: JoinableThread?
        var shuttingDown = false
    }

    private let state = Mutex(State())

    var snapshot: Snapshot {
        state.withLock { Snapshot(operation: $0.operation, progress: $0.progress, record: $0.running?.record) }
    }

    /// Why a new transaction cannot start now; nil: it can.
    var busyError: UpdaterError? {
        state.withLock { Self.busyError($0) }
    }

    private static func busyError(_ state: State) -> UpdaterError? {
        guard let running = state.running else { return nil }
        return .busy(transaction: running.record.id, operation: state.operation, source: running.record.source)
    }

    /// What ends the current transaction's exchanges when the service stops; a signal never
    /// raised outside a transaction.
    var stopSignal: CancellationSignal {
        state.withLock { $0.running?.stopSignal } ?? CancellationSignal()
    }

    /// Claims the runner for `record`, so that nothing else starts until `end`; `start` then runs it.
    func claim(_ record: TransactionRecord, isCheck: Bool, operation first: UpdateOperation) throws(UpdaterError) {
        let refusal = state.withLock { state -> UpdaterError? in
            if state.shuttingDown { return .startup("tandemd is stopping; try again once it has restarted") }
            if let busy = Self.busyError(state) { return busy }
            state.running = Running(record: record, isCheck: isCheck)
            state.operation = first
            state.progress = .none
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Runs the claimed transaction's `work` on a worker thread.
    func start(_ work: @escaping @Sendable () -> Void) {
        state.withLock { state in
            // The previous worker has finished its transaction; it may still be returning.
            let previous = state.worker
            state.worker = JoinableThread {
                previous?.join()
                work()
            }
        }
    }

    /// Ends the transaction in flight: nothing runs any more.
    func end() {
        state.withLock { state in
            state.running = nil
            state.operation = .idle
            state.progress = .none
        }
    }

    /// Updates the record of the transaction in flight; returns it as it is now.
    @discardableResult
    func updateRecord(_ change: (inout TransactionRecord) -> Void) -> TransactionRecord? {
        state.withLock { state in
            guard var running = state.running else { return nil }
            change(&running.record)
            state.running = running
            return running.record
        }
    }

    /// The installer that a cancel or a stop must reach; returns why it is to stop already, if so.
    func attach(_ installer: Installer, operation: UpdateOperation?) -> StopReason? {
        state.withLock { state in
            state.running?.installer = installer
            if let operation, state.running?.stopReason == nil { state.operation = operation }
            return state.running?.stopReason
        }
    }

    /// What the install reports as it goes; the operation stays as it is once a stop was asked.
    func report(operation: UpdateOperation?, progress: ProgressReport) {
        state.withLock { state in
            if let operation, state.running?.stopReason == nil { state.operation = operation }
            state.progress = progress
        }
    }

    func set(operation: UpdateOperation) {
        state.withLock { $0.operation = operation }
    }

    var stopReason: StopReason? {
        state.withLock { $0.running?.stopReason }
    }

    /// Asks the install in flight to stop at its next chunk. Returns its id, or nil when there is
    /// none (a check is not cancelled: it ends by itself).
    func cancel(by uid: UInt32?) -> String? {
        let stopping = state.withLock { state -> (id: String, installer: Installer?)? in
            guard let current = state.running, !current.isCheck else { return nil }
            state.running?.stopReason = .cancelled(uid: uid)
            return (current.record.id, current.installer)
        }
        stopping?.installer?.cancel()
        return stopping?.id
    }

    /// For the service stop: refuses new transactions, asks the install in flight to stop after
    /// its checkpoint, and returns the worker to wait for (taken, so that a second stop cannot
    /// join the same thread twice) with the id of the install it stops.
    func stopForShutdown() -> (worker: JoinableThread?, install: String?) {
        let (installer, worker, install) = state.withLock { state in
            state.shuttingDown = true
            if state.running != nil { state.running?.stopReason = .shutdown }
            defer { state.worker = nil }
            let install = state.running.flatMap { $0.isCheck ? nil : $0.record.id }
            return (state.running?.installer, state.worker, install)
        }
        installer?.cancel()
        state.withLock { $0.running?.stopSignal }?.cancel()
        return (worker, install)
    }
}
