#if canImport(Glibc)
import Glibc
#endif

/// A mutex with one condition variable (pthreads), for the streaming threads. Locking,
/// waiting and signalling allocate nothing.
public final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
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

    /// Wakes every waiter; call inside `locked`.
    @inline(__always)
    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
