import Platform
import Synchronization
import UpdateModel

/// Where an install stands, as reported to the progress callback (and later on D-Bus).
public struct InstallProgress: Sendable, Equatable {
    /// The phase is a wire type: D-Bus reports it, and updatectl shows it.
    public typealias Phase = ProgressPhase

    public var phase: Phase
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var bytesPerSecond: Double
    /// Nil until a rate is known.
    public var secondsRemaining: Double?

    public init(phase: Phase, bytesDone: UInt64, bytesTotal: UInt64, bytesPerSecond: Double, secondsRemaining: Double?) {
        self.phase = phase
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.bytesPerSecond = bytesPerSecond
        self.secondsRemaining = secondsRemaining
    }
}

/// Turns "this many bytes so far" calls, one per chunk, into throttled progress reports with a
/// rate and an ETA. A pipeline thread calls it during a run and the installer's thread after it;
/// the throttle's state sits behind a lock that is never contended and allocates nothing.
final class ProgressMeter: Sendable {
    private struct Throttle {
        var lastReport: Double = 0
        var lastPercent: UInt64 = 0
    }

    private let phase: InstallProgress.Phase
    private let total: UInt64
    private let startOffset: UInt64
    private let startTime: Double
    private let throttle = Mutex(Throttle())
    private let report: @Sendable (InstallProgress) -> Void
    static let interval = 0.2

    init(phase: InstallProgress.Phase, startOffset: UInt64, total: UInt64, report: @escaping @Sendable (InstallProgress) -> Void) {
        self.phase = phase
        self.total = total
        self.startOffset = startOffset
        self.report = report
        startTime = MonotonicClock.now()
    }

    /// At the end of a chunk: reported every `interval`, and at every whole percent.
    func update(_ done: UInt64, force: Bool = false) {
        let now = MonotonicClock.now()
        let due = throttle.withLock { throttle in
            guard force || now - throttle.lastReport >= ProgressMeter.interval || percent(done) > throttle.lastPercent else {
                return false
            }
            throttle.lastReport = now
            throttle.lastPercent = percent(done)
            return true
        }
        if due { send(done, at: now) }
    }

    /// Inside a chunk written in slices: reported only at a new whole percent, however fast,
    /// since update_engine's clients expect a StatusUpdate per 1% (docs/dbus.md). It leaves the
    /// interval alone, so that the chunk's end, where the stream may then wait, is still reported.
    func updateWithinChunk(_ done: UInt64) {
        let due = throttle.withLock { throttle in
            guard percent(done) > throttle.lastPercent else { return false }
            throttle.lastPercent = percent(done)
            return true
        }
        if due { send(done, at: MonotonicClock.now()) }
    }

    /// Dividing by the step cannot overflow.
    private func percent(_ done: UInt64) -> UInt64 {
        done / max(total / 100, 1)
    }

    /// Outside the lock: `report` may take locks of its own.
    private func send(_ done: UInt64, at now: Double) {
        let elapsed = max(now - startTime, 1e-6)
        let rate = Double(done - min(done, startOffset)) / elapsed
        let remaining = rate > 0 ? Double(total - min(done, total)) / rate : nil
        report(InstallProgress(phase: phase, bytesDone: done, bytesTotal: total, bytesPerSecond: rate, secondsRemaining: remaining))
    }
}
