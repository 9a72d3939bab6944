import CSystemd
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// An sd-event loop run on one thread, the bus thread of every connection attached to it.
/// Only `post` (and `exit`, which posts when called elsewhere) may be used from other threads.
public final class EventLoop: @unchecked Sendable {
    let event: OpaquePointer
    /// A pipe `post` writes a byte to, to wake the loop; its io source drains the queue on the
    /// loop thread. (Glibc's module map leaves out sys/eventfd.h, and a pipe does the same.)
    private let wakeupRead: Int32
    private let wakeupWrite: Int32
    private var wakeupSource: OpaquePointer?
    private var signalSources: [OpaquePointer] = []
    /// Timers not yet fired or cancelled, kept here so that a discarded handle still fires.
    var timers: [ObjectIdentifier: EventTimer] = [:]

    private let lock = Condition()
    private var queue: [@Sendable () -> Void] = []
    private var runningThread: pthread_t?

    public init() throws(BusError) {
        var event: OpaquePointer?
        let created = sd_event_new(&event)
        guard created >= 0, let event else { throw .errno(created, "creating an event loop") }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            let error = Glibc.errno
            sd_event_unref(event)
            throw .errno(error, "creating the event loop's wake-up pipe")
        }
        // Non-blocking, so that neither a full pipe nor an empty one can stall a thread.
        for end in pipeEnds {
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        self.event = event
        wakeupRead = pipeEnds[0]
        wakeupWrite = pipeEnds[1]
        // The source lives exactly as long as self (deinit releases it first), so self needs
        // no extra retain as userdata.
        var source: OpaquePointer?
        let added = sd_event_add_io(event, &source, wakeupRead, UInt32(EPOLLIN.rawValue), { _, _, _, userdata in
            guard let userdata else { return 0 }
            Unmanaged<EventLoop>.fromOpaque(userdata).takeUnretainedValue().drainQueue()
            return 0
        }, Unmanaged.passUnretained(self).toOpaque())
        guard added >= 0 else {
            close(wakeupRead)
            close(wakeupWrite)
            sd_event_unref(event)
            throw .errno(added, "watching the event loop's wake-up pipe")
        }
        wakeupSource = source
    }

    deinit {
        for timer in timers.values {
            timer.cancel()
        }
        for source in signalSources {
            sd_event_source_unref(source)
        }
        sd_event_source_unref(wakeupSource)
        close(wakeupRead)
        close(wakeupWrite)
        sd_event_unref(event)
    }

    /// Runs until `exit`, on the calling thread, which becomes the bus thread; returns the exit
    /// code.
    public func run() throws(BusError) -> Int32 {
        lock.locked { runningThread = pthread_self() }
        defer { lock.locked { runningThread = nil } }
        let result = sd_event_loop(event)
        if result < 0 { throw .errno(result, "running the event loop") }
        return result
    }

    /// Makes `run` return `code` once the current iteration ends. From another thread, the
    /// request is posted to the loop.
    public func exit(_ code: Int32 = 0) {
        if isCurrentThread {
            sd_event_exit(event, code)
        } else {
            // Weak: if the loop never runs again, the queued request must not keep it alive.
            post { [weak self] in
                if let self { sd_event_exit(event, code) }
            }
        }
    }

    /// Runs `work` on the loop thread soon, in the order posted. Safe from any thread.
    public func post(_ work: @escaping @Sendable () -> Void) {
        lock.locked { queue.append(work) }
        var byte: UInt8 = 1
        // Fails only when the pipe is full, and then the loop is already due to wake.
        _ = write(wakeupWrite, &byte, 1)
    }

    /// Whether the caller is the thread running the loop now.
    var isCurrentThread: Bool {
        lock.locked { runningThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    private func drainQueue() {
        var bytes = [UInt8](repeating: 0, count: 256)
        while read(wakeupRead, &bytes, bytes.count) > 0 {}
        let work = lock.locked {
            defer { queue.removeAll() }
            return queue
        }
        for item in work {
            item()
        }
    }

    /// Blocks `signals` in the calling thread, and so in every thread it starts later. Call it
    /// before any other thread starts: sd-event takes a signal only when no thread can receive
    /// it the ordinary way. An invalid signal number is skipped; `onSignal` then reports it.
    public static func blockSignals(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals {
            sigaddset(&set, signal)
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Runs `handler` on the loop each time `signal` arrives. The signal must have been blocked
    /// with `blockSignals` first. The loop keeps `handler` as long as it exists, so a handler
    /// that uses the loop should capture it weakly or unowned.
    public func onSignal(_ signal: Int32, _ handler: @escaping () -> Void) throws(BusError) {
        let box = Unmanaged.passRetained(CallbackBox(handler))
        var source: OpaquePointer?
        let added = sd_event_add_signal(event, &source, signal, { _, _, userdata in
            guard let userdata else { return 0 }
            Unmanaged<CallbackBox<() -> Void>>.fromOpaque(userdata).takeUnretainedValue().callback()
            return 0
        }, box.toOpaque())
        guard added >= 0, let source else {
            box.release()
            var error = BusError.errno(added, "handling signal \(signal)")
            if added == -EBUSY {
                error.message += "; block it with EventLoop.blockSignals before starting any thread"
            }
            throw error
        }
        sd_event_source_set_destroy_callback(source) { userdata in
            guard let userdata else { return }
            Unmanaged<CallbackBox<() -> Void>>.fromOpaque(userdata).release()
        }
        signalSources.append(source)
    }

    /// Runs `handler` once on the loop, `seconds` from now (CLOCK_MONOTONIC). The returned
    /// handle can cancel it; discarding the handle does not.
    @discardableResult
    public func after(_ seconds: Double, _ handler: @escaping () -> Void) throws(BusError) -> EventTimer {
        let timer = EventTimer(loop: self, handler: handler)
        var source: OpaquePointer?
        // 1 ms accuracy: the loop has few timers, and sd-event's default of 250 ms would make a
        // short timeout visibly late.
        let added = sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, microseconds(seconds), 1000, { _, _, userdata in
            guard let userdata else { return 0 }
            Unmanaged<EventTimer>.fromOpaque(userdata).takeUnretainedValue().fire()
            return 0
        }, Unmanaged.passUnretained(timer).toOpaque())
        guard added >= 0, let source else { throw .errno(added, "starting a timer") }
        timer.source = source
        timers[ObjectIdentifier(timer)] = timer
        return timer
    }

    /// Turns on sd-event's own watchdog pings (WATCHDOG=1 at half of WATCHDOG_USEC) when the
    /// service manager asked for them; returns whether it did.
    public func enableWatchdog() -> Bool {
        sd_event_set_watchdog(event, 1) > 0
    }
}

/// A Swift closure handed to C as userdata.
final class CallbackBox<Callback> {
    let callback: Callback

    init(_ callback: Callback) {
        self.callback = callback
    }
}

/// Seconds as the microseconds sd-event and sd-bus count in, never trapping: NaN and negative
/// values mean "now", infinity and anything beyond UInt64 mean "never".
func microseconds(_ seconds: Double) -> UInt64 {
    guard seconds > 0 else { return 1 }
    let value = (seconds * 1_000_000).rounded(.up)
    return value < Double(UInt64.max) ? max(1, UInt64(value)) : UInt64.max
}
