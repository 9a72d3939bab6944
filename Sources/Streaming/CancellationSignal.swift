/// What ends the waits of a download that feeds an install: a cancel by someone, or tandemd
/// stopping. The pipeline's state is the one signal (`StreamPipeline.cancellation`).
protocol CancellationSignal: AnyObject, Sendable {
    var isCancelled: Bool { get }
    /// Waits up to `seconds` for a cancel; true as soon as there is one (at once if already).
    func waitForCancel(seconds: Double) -> Bool
}
