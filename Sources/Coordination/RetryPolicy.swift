#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How long to wait after losing a compare-and-swap race on the semaphore before reading it
/// again: locksmith's exponential backoff, 5 s doubling up to 5 min. Tests inject short delays
/// and a sleep that records them.
public struct RetryPolicy: Sendable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    /// Lost races before giving up with `RebootLockError.contended`, so that a caller gets
    /// control back (to check its reboot window, to stop) instead of spinning forever.
    public var maximumConflicts: Int
    public var sleep: @Sendable (Duration) -> Void

    public init(initialDelay: Duration = .seconds(5), maximumDelay: Duration = .seconds(300), maximumConflicts: Int = 10,
                sleep: @escaping @Sendable (Duration) -> Void = RetryPolicy.threadSleep) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumConflicts = maximumConflicts
        self.sleep = sleep
    }

    /// The wait after the `conflict`-th lost race (1-based).
    public func delay(afterConflict conflict: Int) -> Duration {
        var delay = initialDelay
        for _ in 1..<Swift.max(conflict, 1) {
            delay *= 2
            if delay >= maximumDelay { return maximumDelay }
        }
        return Swift.min(delay, maximumDelay)
    }

    /// Blocks the calling thread; the lock is used from the daemon's worker threads.
    public static let threadSleep: @Sendable (Duration) -> Void = { duration in
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }
}
