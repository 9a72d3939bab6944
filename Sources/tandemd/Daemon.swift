import BusClient
import BusCore
import BusService
import Engine
import Logging
import Platform
import Service
#if canImport(Glibc)
import Glibc
#endif

/// Wires the updater to the bus: one thread runs the sd-event loop with the bus and every
/// D-Bus object; the updater's work runs on its worker threads and reaches the bus only by
/// posting to the loop.
///
/// `@unchecked Sendable` because its mutable state (the sd-event timers, C handles that sd-event
/// allows on its loop's thread only, the stop in progress, the last status line) is touched
/// only on the loop thread: the signal handlers and timers run there, and other threads post.
final class Daemon: @unchecked Sendable {
    private let updater: Updater
    private let log: Logger
    private var lastStatusLine = ""
    private var statusLineTimer: EventTimer?
    /// The next automatic update check; replaced whenever a check moves it.
    private var checkTimer: EventTimer?
    private var loop: EventLoop?
    /// systemd reads every notification; one a second is plenty for a human-readable line.
    static let statusLineInterval = 1.0
    /// How long a stop may take before tandemd exits without waiting any longer, well inside the
    /// unit's TimeoutStopSec=90s, so that the stop is recorded by tandemd rather than ended by
    /// systemd's SIGKILL. Every wait a stop meets ends within a few seconds on its own; this
    /// bounds the ones nobody foresaw.
    static let stopBound = 10.0
    /// Set on the loop thread by the first stop signal.
    private var stopping: Stopping?

    /// A stop in progress: the thread that stops the updater, and the bound on it.
    private struct Stopping {
        var thread: JoinableThread
        var bound: EventTimer?
    }

    init(configuration: Engine.Configuration, logger: Logger) throws {
        // Before any thread exists, so that SIGTERM reaches only the loop's signal source. An
        // inherited "ignore" would make the kernel drop the signal before the loop sees it.
        for stopSignal in [SIGTERM, SIGINT] { signal(stopSignal, SIG_DFL) }
        EventLoop.blockSignals([SIGTERM, SIGINT])
        log = logger
        updater = try Updater(configuration: configuration, logger: logger)
    }

    func run() throws -> Int32 {
        let loop = try EventLoop()
        self.loop = loop
        let connection = try BusConnection.system(description: "tandemd")
        try connection.attach(to: loop)
        let native = NativeService(updater: updater, connection: connection, loop: loop, logger: log)
        let compat = CompatService(updater: updater, connection: connection, logger: log)
        try native.export()
        try compat.export()
        try connection.requestName(UpdaterAPI.busName)
        try connection.requestName(CompatAPI.busName)
        let logind = Logind.rebooter(connection, loop: loop)
        updater.coordinator.setRebooter { _ in logind.reboot() }

        updater.observe { [weak self] event in
            loop.post { [weak self] in
                switch event {
                case let .changed(status):
                    native.statusChanged()
                    compat.statusChanged(status)
                case let .completed(result):
                    native.completed(result)
                    compat.completed(result)
                }
                self?.reportStatusLine()
            }
        }
        for signal in [SIGTERM, SIGINT] {
            try loop.onSignal(signal) { [weak self] in
                self?.beginStop(connection: connection, loop: loop, logind: logind)
            }
        }

        let status = updater.status()
        log.notice("started", metadata: [
            "booted_slot": "\(status.bootedSlot?.rawValue ?? "")", "evidence": "\(updater.bootedEvidence)",
            "version": "\(status.bootedVersion ?? "unknown")", "next_boot": "\(status.nextBootSlot?.rawValue ?? "none")",
        ])
        updater.assessBoot()
        compat.announce()
        updater.recoverInterruptedTransaction()
        updater.startSchedule { [weak self] delay in
            loop.post { [weak self] in self?.armCheckTimer(delay, loop: loop) }
        }
        let watchdog = loop.enableWatchdog()
        reportStatusLine()
        _ = try? ServiceManager.ready()
        if watchdog { log.info("watchdog enabled") }
        return try loop.run()
    }

    /// On the loop thread, which must go on running while the updater stops: logind's answer
    /// to a reboot the coordinator waits for, replies to method calls and the bus flush all
    /// come through it. The waiting happens on a thread of its own; when the updater has
    /// stopped (its install checkpointed and recorded as stopped), the loop exits.
    private func beginStop(connection: BusConnection, loop: EventLoop, logind: LogindRebooter) {
        guard stopping == nil else { return }
        log.notice("stopping: checkpointing any install in progress")
        _ = try? ServiceManager.stopping()
        logind.abandon()
        let started = MonotonicClock.now()
        // Touched only on the loop thread, inside `post`.
        nonisolated(unsafe) let connection = connection
        let thread = JoinableThread { [updater, log] in
            updater.shutdown()
            loop.post {
                log.info("stopped in \(Self.milliseconds(since: started)) ms")
                connection.flush()
                loop.exit(0)
            }
        }
        var bound: EventTimer?
        do {
            bound = try loop.after(Self.stopBound) { [updater, log] in
                // The stop thread is still inside shutdown(); the process ends with it.
                let operation = updater.status().operation.rawValue
                log.error("""
                    still stopping after \(Int(Self.stopBound)) s (\(operation)); exiting without waiting longer: \
                    an install in flight was recorded as stopped and resumes at the next start
                    """)
                connection.flush()
                loop.exit(0)
            }
        } catch {
            log.error("cannot arm the stop's time limit: \(error); the stop waits for the updater however long it takes")
        }
        stopping = Stopping(thread: thread, bound: bound)
    }

    private static func milliseconds(since start: Double) -> Int {
        Int(((MonotonicClock.now() - start) * 1000).rounded())
    }

    private func armCheckTimer(_ delay: Int, loop: EventLoop) {
        checkTimer?.cancel()
        do {
            checkTimer = try loop.after(Double(delay)) { [updater] in updater.runScheduledCheck() }
        } catch {
            log.error("cannot arm the timer for the next update check: \(error); automatic checks stop until tandemd restarts")
        }
    }

    /// systemd's one-line STATUS=, sent when the line changes, at most once a second (the last
    /// change is always sent).
    private func reportStatusLine() {
        guard statusLineTimer?.isPending != true else { return }
        let line = updater.status().summary
        guard line != lastStatusLine else { return }
        lastStatusLine = line
        _ = try? ServiceManager.status(line)
        statusLineTimer = try? loop?.after(Daemon.statusLineInterval) { [weak self] in self?.reportStatusLine() }
    }
}
