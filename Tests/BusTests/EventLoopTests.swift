import BusCore
import Foundation
import Testing

/// The sd-event loop on its own: posted work, timers, signals, exit codes.
@Suite struct EventLoopTests {
    /// Runs `setup` and then the loop on a new thread; returns run()'s result.
    private func runLoop(_ loop: EventLoop, seconds: Double = 10,
                         setup: @escaping @Sendable () throws -> Void = {}) throws -> Int32? {
        let done = DispatchSemaphore(value: 0)
        let result = Box<Result<Int32, any Error>>()
        Thread.detachNewThread {
            result.value = Result {
                try setup()
                return try loop.run()
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else {
            loop.exit(99)
            done.wait()
            return nil
        }
        return try result.value?.get()
    }

    @Test func postedWorkRunsInOrderOnTheLoopThread() throws {
        let loop = try EventLoop()
        let seen = Box<[Int]>([])
        let threads = Box<Set<ObjectIdentifier>>([])
        let posters = DispatchGroup()
        for poster in 0..<4 {
            DispatchQueue.global().async(group: posters) {
                for index in 0..<250 {
                    loop.post {
                        seen.value?.append(poster * 1000 + index)
                        threads.value?.insert(ObjectIdentifier(Thread.current))
                    }
                }
            }
        }
        DispatchQueue.global().async {
            posters.wait()
            loop.post { loop.exit(3) }
        }
        let code = try runLoop(loop)
        #expect(code == 3)
        let values = seen.value ?? []
        #expect(values.count == 1000)
        #expect(threads.value?.count == 1, "posted work ran on more than one thread")
        for poster in 0..<4 {
            let own = values.filter { $0 / 1000 == poster }
            #expect(own == own.sorted(), "poster \(poster)'s work ran out of order")
        }
    }

    @Test func timersFireOnceAndCanBeCancelled() throws {
        let loop = try EventLoop()
        let fired = Box<[String]>([])
        let started = Date()
        let elapsed = Box<Double>()
        let pending = Box<[Bool]>([])
        let code = try runLoop(loop) {
            let cancelled = try loop.after(0.05) { fired.value?.append("cancelled") }
            try loop.after(0.1) {
                fired.value?.append("discarded handle")
                elapsed.value = Date().timeIntervalSince(started)
            }
            let kept = try loop.after(0.15) { fired.value?.append("kept") }
            pending.value?.append(cancelled.isPending)
            cancelled.cancel()
            pending.value?.append(cancelled.isPending)
            try loop.after(0.3) {
                pending.value?.append(kept.isPending)
                loop.exit(0)
            }
        }
        #expect(code == 0)
        #expect(fired.value == ["discarded handle", "kept"])
        #expect(pending.value == [true, false, false])
        #expect((elapsed.value ?? 0) >= 0.1)
    }

    @Test func signalsAreHandledOnTheLoop() throws {
        let loop = try EventLoop()
        let thread = Box<pthread_t>()
        let registered = DispatchSemaphore(value: 0)
        let handled = Box<Int>(0)
        DispatchQueue.global().async {
            // SIGWINCH: harmless should it reach another thread of the test runner.
            registered.wait()
            if let target = thread.value {
                pthread_kill(target, SIGWINCH)
            }
        }
        let code = try runLoop(loop) {
            EventLoop.blockSignals([SIGWINCH])
            thread.value = pthread_self()
            try loop.onSignal(SIGWINCH) { [unowned loop] in
                handled.value = (handled.value ?? 0) + 1
                loop.exit(7)
            }
            registered.signal()
        }
        #expect(code == 7)
        #expect(handled.value == 1)
    }

    @Test func unblockedSignalIsRefusedWithAHint() throws {
        let loop = try EventLoop()
        let refused = Box<BusError>()
        let code = try runLoop(loop) {
            // Unblocked in this thread only, and never sent.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            do throws(BusError) {
                try loop.onSignal(SIGUSR2) {}
            } catch {
                refused.value = error
            }
            loop.exit(0)
        }
        #expect(code == 0)
        #expect(refused.value?.message.contains("block it with EventLoop.blockSignals") == true)
    }

    @Test func watchdogStaysOffWithoutTheServiceManager() throws {
        try #require(ProcessInfo.processInfo.environment["WATCHDOG_USEC"] == nil)
        let loop = try EventLoop()
        #expect(!loop.enableWatchdog())
    }
}

/// A value handed between threads in a test.
final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?

    init(_ value: Value? = nil) {
        stored = value
    }

    var value: Value? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
