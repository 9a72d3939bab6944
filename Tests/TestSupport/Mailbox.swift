import Foundation

/// The latest value another thread handed over (an observer's event, a completion's answer),
/// for a test to poll or wait on.
public final class Mailbox<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var latest: Value?

    public init() {}

    public var value: Value? { condition.withLock { latest } }

    public func set(_ value: Value) {
        condition.withLock {
            latest = value
            condition.broadcast()
        }
    }

    public func reset() { condition.withLock { latest = nil } }

    /// The value, as soon as there is one; nil after `timeout` seconds without.
    public func wait(timeout: Double) -> Value? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while latest == nil, condition.wait(until: deadline) {}
            return latest
        }
    }
}
