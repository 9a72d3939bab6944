#if canImport(Glibc)
import Glibc
#endif

/// A mutex with one condition variable (pthreads), for the streaming threads. Locking,
/// waiting and signalling allocate nothing. Timed waits run on CLOCK_MONOTONIC: a wall clock
/// stepped at boot (NTP, an RTC kept in local time) must neither stretch nor cut short a wait.
public final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    public func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits until `predicate` holds, with the lock held; call only inside `locked`.
    @inline(__always)
    public func wait(until predicate: () -> Bool) {
        while !predicate() {
            pthread_cond_wait(condition, mutex)
        }
    }

    /// Waits until `predicate` holds or `seconds` have passed, with the lock held; call only
    /// inside `locked`. Returns whether the predicate holds. A negative or NaN wait is none; one
    /// beyond a year is a year.
    public func wait(seconds: Double, until predicate: () -> Bool) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = seconds.isNaN ? 0 : min(max(seconds, 0), 365 * 86400)
        let whole = Int(seconds.rounded(.down))
        var deadline = timespec(tv_sec: now.tv_sec + whole, tv_nsec: now.tv_nsec + Int((seconds - Double(whole)) * 1e9))
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        while !predicate() {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { return predicate() }
        }
        return true
    }

    /// Wakes every waiter; call inside `locked`.
    @inline(__always)
    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
