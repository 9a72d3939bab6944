import Logging
import Omaha

extension Updater {
    /// Starts the automatic checks: `arm` is called with the delay (seconds) until the next one
    /// whenever it is decided, and the daemon calls `runScheduledCheck` when that time comes.
    /// With `Strategy=off` there are no automatic checks.
    public func startSchedule(arm: @escaping @Sendable (Int) -> Void) {
        guard configuration.strategy != .off else {
            log.info("automatic update checks are off (Strategy=off)")
            return
        }
        let delay = cache.withLock { cache in
            cache.armCheckTimer = arm
            return cache.scheduler.start(now: clock.epochSeconds, draw: { Int.random(in: $0) })
        }
        log.info("first automatic update check in \(delay) s", metadata: ["strategy": "\(configuration.strategy.rawValue)"])
        notifyChanged()
        arm(delay)
    }

    /// The schedule's check: looks for an update, then does what the strategy says. When
    /// something else is running, the check waits for the regular interval rather than queueing.
    public func runScheduledCheck() {
        do {
            try check(.scheduled) { _ in }
        } catch {
            log.info("automatic update check skipped: \(error)")
            rescheduleAfter(.failure(CheckFailure(error: error, outcome: .noUpdate)))
        }
    }

    /// After a blessing the server should hear of the new version soon, but not from the whole
    /// fleet at once: the next check comes after a first-check delay, as after a start.
    func scheduleSoon() {
        rearm { scheduler, now in scheduler.start(now: now, draw: { Int.random(in: $0) }) }
    }

    /// Any check, scheduled or not, moves the next automatic one: update_engine schedules its
    /// next check whenever it becomes idle.
    func rescheduleAfter(_ result: Result<CheckFinding, CheckFailure>) {
        let (outcome, poll) = switch result {
        case let .success(finding): (finding.outcome, finding.pollInterval)
        case let .failure(failure): (failure.outcome, nil as Int?)
        }
        guard let delay = rearm({ scheduler, now in
            scheduler.checked(outcome, pollIntervalSeconds: poll, now: now, draw: { Int.random(in: $0) })
        }) else { return }
        log.info("next automatic update check in \(delay) s", metadata: ["outcome": "\(outcome)"])
    }

    /// Moves the next automatic check to what `decide` says, and arms the daemon's timer for it.
    /// Nothing happens before `startSchedule` (or with `Strategy=off`). Returns the delay.
    @discardableResult
    private func rearm(_ decide: (inout UpdateScheduler, Int64) -> Int) -> Int? {
        let (delay, arm) = cache.withLock { cache -> (Int?, (@Sendable (Int) -> Void)?) in
            guard let armCheckTimer = cache.armCheckTimer else { return (nil, nil) }
            return (decide(&cache.scheduler, clock.epochSeconds), armCheckTimer)
        }
        guard let delay, let arm else { return nil }
        notifyChanged()
        arm(delay)
        return delay
    }

    /// What a scheduled check that found an update leads to.
    func applyStrategy(to finding: CheckFinding) {
        guard finding.result.available, let source = finding.installSource else { return }
        let strategy = configuration.strategy
        switch strategy {
        case .off:
            return
        case .checkOnly:
            log.notice("\(finding.result.message); not downloading it (Strategy=check-only): updatectl update installs it",
                       metadata: ["version": "\(finding.result.version)", "strategy": "\(strategy.rawValue)"])
        case .automatic, .downloadOnly:
            do {
                let id = try install(InstallRequest(source: source, stageOnly: strategy == .downloadOnly, trigger: .scheduled),
                                     offer: finding.offer)
                log.info("automatic update started (Strategy=\(strategy.rawValue))",
                         metadata: ["transaction": "\(id)", "version": "\(finding.result.version)"])
            } catch {
                log.warning("automatic update of version \(finding.result.version) not started: \(error)")
            }
        }
    }

    /// Re-reads where updates come from (update.conf may have changed), keeping the last good
    /// answer when the files cannot be read: the check itself will report why.
    func refreshChannel() -> UpdateChannel {
        let fresh = try? UpdateChannel.resolve(configuration, runningVersion: host.version)
        return cache.withLock { cache in
            if let fresh { cache.channel = fresh }
            return cache.channel
        }
    }

    /// The version requests claim: update.conf's override if any, else the running version.
    var requestVersion: String {
        if case let .omaha(settings) = cache.withLock({ $0.channel }), let version = settings.version { return version }
        return host.version ?? "0.0.0"
    }
}
