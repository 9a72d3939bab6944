/// The automatic checks' timetable: `CheckSchedule`'s decisions turned into wall-clock times,
/// with the interval the next back-off doubles carried from one check to the next.
///
/// A value with an injected clock (`now`, Unix seconds) and randomness (`draw`), so that a
/// test can run days of checks, failures and server poll intervals in microseconds.
public struct UpdateScheduler: Sendable {
    public let schedule: CheckSchedule
    private var last: NextCheck?
    /// When the next automatic check is due (Unix seconds); nil before `start`.
    public private(set) var nextCheckTime: Int64?

    public init(schedule: CheckSchedule) {
        self.schedule = schedule
    }

    /// The first check after the daemon starts, or again after a blessing (so that the server
    /// hears of the new version soon, at a random moment, not when the whole fleet does).
    /// Returns the delay in seconds.
    public mutating func start(now: Int64, draw: (ClosedRange<Int>) -> Int) -> Int {
        let next = schedule.first(draw: draw)
        return record(next, now: now)
    }

    /// The check after one that ended with `outcome`; `pollIntervalSeconds` is the server's
    /// `PollInterval` from that exchange, if it sent one. Returns the delay in seconds.
    public mutating func checked(_ outcome: CheckOutcome, pollIntervalSeconds: Int?, now: Int64,
                                 draw: (ClosedRange<Int>) -> Int) -> Int {
        let previous = last ?? NextCheck(delaySeconds: 0, intervalSeconds: schedule.intervalSeconds)
        let next = schedule.next(after: outcome, previous: previous, pollIntervalSeconds: pollIntervalSeconds, draw: draw)
        return record(next, now: now)
    }

    private mutating func record(_ next: NextCheck, now: Int64) -> Int {
        last = next
        nextCheckTime = now + Int64(next.delaySeconds)
        return next.delaySeconds
    }
}
