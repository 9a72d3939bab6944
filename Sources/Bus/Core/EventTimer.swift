import CSystemd

/// A one-shot timer on an `EventLoop`, from `EventLoop.after`. Use it on the loop thread.
public final class EventTimer {
    var source: OpaquePointer?
    private weak var loop: EventLoop?
    private let handler: () -> Void

    init(loop: EventLoop, handler: @escaping () -> Void) {
        self.loop = loop
        self.handler = handler
    }

    /// Whether the timer has neither fired nor been cancelled.
    public var isPending: Bool { source != nil }

    /// Stops the timer if it has not fired yet.
    public func cancel() {
        guard let source else { return }
        self.source = nil
        // sd-event defers freeing a source that is being dispatched, so this is safe from the
        // timer's own callback too.
        sd_event_source_unref(source)
        loop?.timers[ObjectIdentifier(self)] = nil
    }

    func fire() {
        // Keeps self alive past cancel(), which drops the loop's reference.
        withExtendedLifetime(self) {
            cancel()
            handler()
        }
    }
}
