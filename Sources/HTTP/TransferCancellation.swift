import Platform
import Synchronization

/// What ends a transfer's waits: the transfer itself, even one that receives nothing (a stalled
/// server), and the pause between two attempts. An install's pipeline is one (a cancel by
/// someone, or tandemd stopping); `CancellationSignal` is one for everything else.
public protocol TransferCancellation: AnyObject, Sendable {
    /// Read by libcurl's progress callback at least once a second during a transfer: cheap.
    var isCancelled: Bool { get }
    /// Waits up to `seconds` for a cancel; true as soon as there is one (at once if already).
    func waitForCancel(seconds: Double) -> Bool
}

/// A cancellation that is raised once and stays raised: what a check or a coordinator hands its
/// exchanges, so that a stop ends them at once instead of after their timeouts.
public final class CancellationSignal: TransferCancellation {
    /// Read without the lock: libcurl polls it during every transfer.
    private let raised = Atomic<Bool>(false)
    private let condition = Condition()

    public init() {}

    public var isCancelled: Bool {
        raised.load(ordering: .acquiring)
    }

    public func waitForCancel(seconds: Double) -> Bool {
        condition.locked {
            condition.wait(seconds: seconds) { raised.load(ordering: .acquiring) }
        }
    }

    public func cancel() {
        condition.locked {
            raised.store(true, ordering: .releasing)
            condition.broadcast()
        }
    }
}
