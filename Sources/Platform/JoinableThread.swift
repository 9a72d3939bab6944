#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running one closure, joined explicitly. Foundation's `Thread` would pull in
/// all of Foundation (megabytes of resident memory) for what is two system calls.
///
/// The closure is released as soon as it returns, before anyone joins: an owner that keeps
/// its finished thread to join later (and that the closure captured) is then not kept alive by
/// it. Every thread must be joined or detached once, or its stack stays allocated.
public final class JoinableThread: @unchecked Sendable {
    private var handle = pthread_t()
    /// Set before the thread starts, then touched only by the thread itself.
    private var body: (@Sendable () -> Void)?

    /// Starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&handle, nil, { context in
            let thread = Unmanaged<JoinableThread>.fromOpaque(context!).takeRetainedValue()
            let body = thread.body
            thread.body = nil
            body?()
            return nil
        }, context)
        // pthread_create fails only when the system is out of threads or memory.
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    /// Waits for the thread's closure to return.
    public func join() {
        pthread_join(handle, nil)
    }

    /// Lets the thread free itself when its closure returns, for work nobody waits for (a
    /// D-Bus call answered from the thread). It must not be joined afterwards.
    public func detach() {
        pthread_detach(handle)
    }
}
