@testable import Engine
import Testing

/// The automatic checks' timetable on an injected clock: days of checks, outages and server
/// poll intervals, played in microseconds, never slept through.
@Suite struct UpdateSchedulerTests {
    /// A clock the test moves, and a random source that is really random but seeded per test
    /// run, so that the bounds are checked against the whole spread, not one draw.
    struct SimulatedClock {
        var now: Int64 = 1_800_000_000
        mutating func advance(_ seconds: Int) { now += Int64(seconds) }
    }

    @Test func aFailureStreakBacksOffWithinBoundsAndASuccessComesBackToTheRegularWindow() {
        var clock = SimulatedClock()
        var scheduler = UpdateScheduler(schedule: CheckSchedule())
        var delay = scheduler.start(now: clock.now, draw: { Int.random(in: $0) })
        #expect((120...720).contains(delay))
        #expect(scheduler.nextCheckTime == clock.now + Int64(delay))

        // The server is down for a day: each check fails with 503, the unfuzzed interval
        // doubles from the 45 min floor to the 4 h cap, and each delay stays within ±50 % of it.
        var unfuzzed = 2700
        for attempt in 0..<12 {
            clock.advance(delay)
            delay = scheduler.checked(.serverError(httpStatus: 503), pollIntervalSeconds: nil, now: clock.now,
                                      draw: { Int.random(in: $0) })
            if attempt == 0 {
                // The initial delay doubled is below the floor: the regular window.
                #expect((2400...3000).contains(delay), "attempt \(attempt): \(delay)")
                continue
            }
            unfuzzed = min(unfuzzed * 2, 14400)
            #expect((unfuzzed / 2...unfuzzed + unfuzzed / 2).contains(delay), "attempt \(attempt): \(delay) for \(unfuzzed)")
            #expect(delay <= 21600, "never more than the 4 h cap plus half of it")
            #expect(scheduler.nextCheckTime == clock.now + Int64(delay))
        }
        clock.advance(delay)
        delay = scheduler.checked(.noUpdate, pollIntervalSeconds: nil, now: clock.now, draw: { Int.random(in: $0) })
        #expect((2400...3000).contains(delay), "back to 45 ± 5 min after the server answers: \(delay)")
    }

    @Test func theServersPollIntervalIsHonouredWithinTheFloorAndTheCap() {
        var scheduler = UpdateScheduler(schedule: CheckSchedule())
        let now: Int64 = 1_000
        _ = scheduler.start(now: now, draw: { $0.lowerBound })
        // Within bounds: taken, fuzzed by ±50 % as update_engine fuzzes long intervals.
        let hourly = scheduler.checked(.noUpdate, pollIntervalSeconds: 3600, now: now, draw: { $0.lowerBound })
        #expect(hourly == 1800)
        #expect(scheduler.checked(.noUpdate, pollIntervalSeconds: 3600, now: now, draw: { $0.upperBound }) == 5400)
        // Too short: no sooner than the regular window (no check storms on a server's whim).
        #expect(scheduler.checked(.noUpdate, pollIntervalSeconds: 5, now: now, draw: { $0.lowerBound }) == 2400)
        // Too long: capped at 4 h.
        #expect(scheduler.checked(.noUpdate, pollIntervalSeconds: 7 * 86400, now: now, draw: { $0.upperBound }) == 21600)
        // It wins even over a back-off, as in update_engine.
        #expect(scheduler.checked(.serverError(httpStatus: 503), pollIntervalSeconds: 3600, now: now, draw: { $0.lowerBound }) == 1800)
    }

    @Test func configuredIntervalJitterAndFirstDelayAreUsed() {
        var scheduler = UpdateScheduler(schedule: CheckSchedule(intervalSeconds: 600, jitterSeconds: 120, initialDelaySeconds: 30))
        #expect(scheduler.start(now: 0, draw: { $0.lowerBound }) == 0, "30 s - 60 s is clamped at now")
        #expect(scheduler.start(now: 0, draw: { $0.upperBound }) == 90)
        #expect(scheduler.checked(.success, pollIntervalSeconds: nil, now: 0, draw: { $0.lowerBound }) == 540)
        #expect(scheduler.checked(.success, pollIntervalSeconds: nil, now: 0, draw: { $0.upperBound }) == 660)
    }

    @Test func aFleetStartingAtOnceSpreadsItsChecks() {
        // 1000 hosts boot in the same second; their first checks spread over 10 minutes, their
        // next ones over another 10, with no minute taking more than a few percent.
        var firstMinutes = [Int: Int](), secondMinutes = [Int: Int]()
        for _ in 0..<1000 {
            var scheduler = UpdateScheduler(schedule: CheckSchedule())
            let first = scheduler.start(now: 0, draw: { Int.random(in: $0) })
            firstMinutes[first / 60, default: 0] += 1
            let second = first + scheduler.checked(.noUpdate, pollIntervalSeconds: nil, now: Int64(first), draw: { Int.random(in: $0) })
            secondMinutes[second / 60, default: 0] += 1
        }
        #expect(firstMinutes.keys.count >= 10 && firstMinutes.values.max() ?? 0 < 200, "\(firstMinutes)")
        #expect(secondMinutes.keys.count >= 15 && secondMinutes.values.max() ?? 0 < 150, "\(secondMinutes)")
    }
}
