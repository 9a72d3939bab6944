/// When the next automatic update check happens, decided as update_engine's
/// `UpdateCheckScheduler::ComputeNextIntervalAndFuzz` and `ScheduleNextCheck` decide it
/// (ue/update_check_scheduler.cc, `FuzzInt` in ue/utils.cc), so that a fleet moved from
/// update_engine to Tandem loads its update server the same way.
///
/// A pure value: it reads no clock and sleeps nowhere. The caller arms its timer with
/// `delaySeconds` and hands the returned `NextCheck` back in after that check, because the
/// unfuzzed interval is what the next back-off doubles (update_engine's `last_interval_`).
/// The randomness comes from `draw`, which must return a uniform integer inside the range it
/// is given; production passes `{ Int.random(in: $0) }`, tests pass something predictable.
///
/// While a reboot is pending the schedule does not change: update_engine keeps its timer and
/// only turns each check into a ping (`UPDATED_NEED_REBOOT`), which is the caller's business.
public struct CheckSchedule: Sendable, Equatable {
    /// update_engine's `kTimeoutPeriodicInterval`.
    public static let defaultIntervalSeconds = 45 * 60
    /// update_engine's `kTimeoutRegularFuzz`: the whole width of the window, ±5 min.
    public static let defaultJitterSeconds = 10 * 60
    /// update_engine's `kTimeoutInitialInterval`; with the default jitter, 2–12 min after start.
    public static let defaultInitialDelaySeconds = 7 * 60
    /// update_engine's `kTimeoutMaxBackoffInterval`.
    public static let defaultBackoffCapSeconds = 4 * 60 * 60
    /// The shortest configured interval accepted. update_engine has no such knob; below a
    /// minute a fleet would hammer its server for no gain.
    public static let minimumIntervalSeconds = 60

    /// The regular interval, and also the floor: nothing (back-off reset, PollInterval) is
    /// scheduled sooner than this, as update_engine never schedules sooner than 45 min.
    public let intervalSeconds: Int
    /// The width of the window around `intervalSeconds` and around the initial delay.
    public let jitterSeconds: Int
    public let initialDelaySeconds: Int
    /// The longest unfuzzed interval, for back-off and for PollInterval alike. The fuzzed delay
    /// may exceed it by half, since update_engine fuzzes long intervals by ±50 % after capping.
    public let backoffCapSeconds: Int

    /// Out-of-range values are pulled to the nearest sane one rather than refused, because the
    /// daemon must keep checking whatever the configuration says: the interval is at least
    /// `minimumIntervalSeconds`, the jitter and the initial delay are not negative, and the cap
    /// is not below the interval.
    public init(intervalSeconds: Int = defaultIntervalSeconds, jitterSeconds: Int = defaultJitterSeconds,
                initialDelaySeconds: Int = defaultInitialDelaySeconds, backoffCapSeconds: Int = defaultBackoffCapSeconds) {
        self.intervalSeconds = max(intervalSeconds, Self.minimumIntervalSeconds)
        self.jitterSeconds = max(jitterSeconds, 0)
        self.initialDelaySeconds = max(initialDelaySeconds, 0)
        self.backoffCapSeconds = max(backoffCapSeconds, self.intervalSeconds)
    }

    /// The check after the daemon starts. As update_engine (`ScheduleCheck(kTimeoutInitialInterval,
    /// kTimeoutRegularFuzz)`), the initial delay itself is what a first failure doubles; that
    /// doubling lands below the floor and so becomes the regular interval.
    public func first(draw: (ClosedRange<Int>) -> Int) -> NextCheck {
        NextCheck(delaySeconds: max(Self.fuzz(initialDelaySeconds, range: jitterSeconds, draw: draw), 0),
                  intervalSeconds: initialDelaySeconds)
    }

    /// The check after one that ended with `outcome`.
    /// - Parameters:
    ///   - previous: what the last call returned.
    ///   - pollIntervalSeconds: the server's `<updatecheck PollInterval>` from that check, if it sent
    ///     one. Zero or less counts as absent (update_engine tests `> 0`). It is not persisted,
    ///     as in update_engine: a check that gets no answer passes nil.
    public func next(after outcome: CheckOutcome, previous: NextCheck, pollIntervalSeconds: Int?,
                     draw: (ClosedRange<Int>) -> Int) -> NextCheck {
        var interval = 0
        if let pollIntervalSeconds, pollIntervalSeconds > 0 {
            // The server's word wins even over a back-off, as in update_engine.
            interval = pollIntervalSeconds
        } else if outcome.backsOff {
            // Halving the cap first keeps the doubling from overflowing whatever the caller passes.
            interval = previous.intervalSeconds > backoffCapSeconds / 2 ? backoffCapSeconds : previous.intervalSeconds * 2
        }
        interval = min(interval, backoffCapSeconds)
        // Below the floor (which is where "no back-off" lands too) the regular window applies;
        // above it, update_engine fuzzes by the interval itself, i.e. ±50 %.
        let fuzzRange: Int
        if interval < intervalSeconds {
            interval = intervalSeconds
            fuzzRange = jitterSeconds
        } else {
            fuzzRange = interval
        }
        return NextCheck(delaySeconds: max(Self.fuzz(interval, range: fuzzRange, draw: draw), 0), intervalSeconds: interval)
    }

    /// update_engine's `FuzzInt(value, range)`: the closed window `draw` picks from. Integer
    /// division truncates as in C++, so an odd range puts the extra second above `value`.
    public static func fuzzBounds(_ value: Int, range: Int) -> ClosedRange<Int> {
        // A negative range would make an empty (trapping) ClosedRange; update_engine never passes one.
        let range = max(range, 0)
        return (value - range / 2)...(value + range - range / 2)
    }

    /// update_engine's `FuzzInt`. A `draw` that strays outside the window is pulled back to its
    /// edge, so a faulty source can skew the spread but never the bounds.
    public static func fuzz(_ value: Int, range: Int, draw: (ClosedRange<Int>) -> Int) -> Int {
        let bounds = fuzzBounds(value, range: range)
        return min(max(draw(bounds), bounds.lowerBound), bounds.upperBound)
    }
}

/// One scheduling decision.
public struct NextCheck: Sendable, Equatable {
    /// How long from now until the check, fuzzed.
    public let delaySeconds: Int
    /// The interval before fuzzing, carried into the next decision for back-off doubling.
    public let intervalSeconds: Int

    public init(delaySeconds: Int, intervalSeconds: Int) {
        self.delaySeconds = delaySeconds
        self.intervalSeconds = intervalSeconds
    }
}

/// How the last check ended, as far as scheduling cares.
public enum CheckOutcome: Sendable, Equatable {
    /// The server answered with an update.
    case success
    case noUpdate
    /// The server answered with an HTTP error status.
    case serverError(httpStatus: Int)
    /// No answer: DNS, connection or TLS failure, timeout.
    case networkFailure
    /// The server (Nebraska) answered but asked this host to come back later.
    case refused
    /// Anything else, e.g. a response that did not parse or verify.
    case failed

    /// Whether the next check doubles the previous interval. update_engine backs off on HTTP 500
    /// and 503 only. Tandem also backs off on network failures (update_engine sees HTTP code 0
    /// there and keeps 45 min) and on refusals, since in both cases checking again at the
    /// regular pace only adds load to a server that is already struggling or asked for less.
    public var backsOff: Bool {
        switch self {
        case .serverError(let httpStatus): httpStatus == 500 || httpStatus == 503
        case .networkFailure, .refused: true
        case .success, .noUpdate, .failed: false
        }
    }
}
