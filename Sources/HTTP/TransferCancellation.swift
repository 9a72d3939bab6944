/// What ends a download's waits: its transfer, even one that receives nothing (a stalled
/// server), and the pause between two attempts. An install's pipeline is one (a cancel by
/// someone, or tandemd stopping).
public protocol TransferCancellation: AnyObject, Sendable {
    var isCancelled: Bool { get }
    /// Waits up to `seconds` for a cancel; true as soon as there is one (at once if already).
    func waitForCancel(seconds: Double) -> Bool
}
