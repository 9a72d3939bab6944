import FoundationEssentials
import Platform

/// Time as the reboot coordinator sees it: the wall clock, against which the reboot window is
/// judged, and the timed waits between tries. Injected, so that tests move time on instead of
/// waiting for it.
public protocol RebootClock: Sendable {
    func now() -> Date
    /// Waits on `condition`, which the caller holds, until `predicate` holds or `seconds` have
    /// passed; returns whether the predicate holds.
    func wait(on condition: Condition, seconds: Double, until predicate: () -> Bool) -> Bool
}

/// The real clock: the system's wall clock, and waits measured on the monotonic clock.
public struct SystemRebootClock: RebootClock {
    public init() {}

    public func now() -> Date {
        Date()
    }

    public func wait(on condition: Condition, seconds: Double, until predicate: () -> Bool) -> Bool {
        condition.wait(seconds: seconds, until: predicate)
    }
}
