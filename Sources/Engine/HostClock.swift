import FoundationEssentials
import Platform

/// Time as the engine sees it: the wall clock, which stamps the records (results, checks, boots,
/// quarantines) and against which the reboot window and the check schedule are judged, and the
/// reboot coordinator's timed waits between tries. Injected into the `Updater` and the
/// coordinator, so that tests set and move time instead of waiting for it.
public protocol HostClock: Sendable {
    func now() -> Date
    /// Waits on `condition`, which the caller holds, until `predicate` holds or `seconds` have
    /// passed; returns whether the predicate holds.
    func wait(on condition: Condition, seconds: Double, until predicate: () -> Bool) -> Bool
}

/// The real clock: the system's wall clock, and waits measured on the monotonic clock.
public struct SystemClock: HostClock {
    public init() {}

    public func now() -> Date {
        Date()
    }

    public func wait(on condition: Condition, seconds: Double, until predicate: () -> Bool) -> Bool {
        condition.wait(seconds: seconds, until: predicate)
    }
}

extension HostClock {
    /// Whole seconds since the epoch, as the state's records keep time.
    var epochSeconds: Int64 {
        Int64(now().timeIntervalSince1970.rounded(.down))
    }
}
