@testable import Engine
import Foundation
import Testing
import TestSupport

/// The schedule must match update_engine's (flatcar-update-engine.md §2.2) so that a fleet
/// moved to Tandem loads its update server the same way.
@Suite struct CheckScheduleTests {
    private let lowest: (ClosedRange<Int>) -> Int = { $0.lowerBound }
    private let highest: (ClosedRange<Int>) -> Int = { $0.upperBound }
    private let schedule = CheckSchedule()

    @Test func defaultsAreUpdateEnginesConstants() {
        #expect(schedule.intervalSeconds == 2700)
        #expect(schedule.jitterSeconds == 600)
        #expect(schedule.initialDelaySeconds == 420)
        #expect(schedule.backoffCapSeconds == 14400)
    }

    @Test(arguments: [
        (420, 600, 120, 720),
        (2700, 600, 2400, 3000),
        (14400, 14400, 7200, 21600),
        // An odd range puts the extra second above, as C++'s truncating division does.
        (7, 7, 4, 11),
        (100, 0, 100, 100),
    ])
    func fuzzIntReachesExactlyBothEnds(value: Int, range: Int, low: Int, high: Int) {
        #expect(CheckSchedule.fuzzBounds(value, range: range) == low...high)
        #expect(CheckSchedule.fuzz(value, range: range, draw: lowest) == low)
        #expect(CheckSchedule.fuzz(value, range: range, draw: highest) == high)
    }

    @Test func aDrawOutsideTheWindowIsPulledToItsEdge() {
        #expect(CheckSchedule.fuzz(2700, range: 600, draw: { _ in -1 }) == 2400)
        #expect(CheckSchedule.fuzz(2700, range: 600, draw: { _ in 1_000_000 }) == 3000)
        #expect(CheckSchedule.fuzzBounds(10, range: -4) == 10...10)
    }

    @Test func theFirstCheckComesTwoToTwelveMinutesAfterStart() {
        #expect(schedule.first(draw: lowest) == NextCheck(delaySeconds: 2 * 60, intervalSeconds: 420))
        #expect(schedule.first(draw: highest) == NextCheck(delaySeconds: 12 * 60, intervalSeconds: 420))
    }

    @Test(arguments: [CheckOutcome.success, .noUpdate, .failed, .serverError(httpStatus: 404), .serverError(httpStatus: 502)])
    func periodicChecksComeFortyToFiftyMinutesApart(outcome: CheckOutcome) {
        let previous = schedule.first(draw: lowest)
        #expect(schedule.next(after: outcome, previous: previous, pollIntervalSeconds: nil, draw: lowest)
            == NextCheck(delaySeconds: 40 * 60, intervalSeconds: 2700))
        #expect(schedule.next(after: outcome, previous: previous, pollIntervalSeconds: nil, draw: highest)
            == NextCheck(delaySeconds: 50 * 60, intervalSeconds: 2700))
    }

    @Test func repeated503sDoubleUpToExactlyTheCapAndStayThere() {
        var check = schedule.first(draw: lowest)
        var intervals: [Int] = []
        for _ in 0..<8 {
            let low = schedule.next(after: .serverError(httpStatus: 503), previous: check, pollIntervalSeconds: nil, draw: lowest)
            let high = schedule.next(after: .serverError(httpStatus: 503), previous: check, pollIntervalSeconds: nil, draw: highest)
            #expect(low.intervalSeconds == high.intervalSeconds)
            #expect(low.intervalSeconds <= 14400)
            // update_engine fuzzes after capping, by ±50 % above the floor: 2–6 h at the cap.
            #expect(low.delaySeconds >= CheckSchedule.fuzzBounds(low.intervalSeconds, range: low.intervalSeconds).lowerBound)
            #expect(high.delaySeconds <= 14400 + 14400 / 2)
            intervals.append(high.intervalSeconds)
            check = high
        }
        // 420 doubled is 840, below the floor, so the first back-off is the regular 45 min.
        #expect(intervals == [2700, 5400, 10800, 14400, 14400, 14400, 14400, 14400])
        #expect(check.delaySeconds == 21600)
        let atCapLow = schedule.next(after: .serverError(httpStatus: 500), previous: check, pollIntervalSeconds: nil, draw: lowest)
        #expect(atCapLow == NextCheck(delaySeconds: 7200, intervalSeconds: 14400))
    }

    @Test func networkFailuresAndRefusalsBackOffToo() {
        let previous = NextCheck(delaySeconds: 5400, intervalSeconds: 5400)
        for outcome in [CheckOutcome.networkFailure, .refused, .serverError(httpStatus: 500)] {
            #expect(outcome.backsOff)
            #expect(schedule.next(after: outcome, previous: previous, pollIntervalSeconds: nil, draw: lowest).intervalSeconds == 10800)
        }
        for outcome in [CheckOutcome.success, .noUpdate, .failed, .serverError(httpStatus: 404)] {
            #expect(!outcome.backsOff)
        }
    }

    @Test func doublingAHugePreviousIntervalDoesNotOverflow() {
        let previous = NextCheck(delaySeconds: 0, intervalSeconds: Int.max)
        #expect(schedule.next(after: .refused, previous: previous, pollIntervalSeconds: nil, draw: lowest).intervalSeconds == 14400)
    }

    @Test(arguments: [CheckOutcome.success, .noUpdate])
    func aSuccessResetsTheBackOff(outcome: CheckOutcome) {
        let backedOff = NextCheck(delaySeconds: 21600, intervalSeconds: 14400)
        let next = schedule.next(after: outcome, previous: backedOff, pollIntervalSeconds: nil, draw: highest)
        #expect(next == NextCheck(delaySeconds: 3000, intervalSeconds: 2700))
        // And the next failure starts doubling from the base interval again.
        #expect(schedule.next(after: .serverError(httpStatus: 503), previous: next, pollIntervalSeconds: nil, draw: lowest).intervalSeconds == 5400)
    }

    @Test(arguments: [
        // Honoured, fuzzed by ±50 % like any interval at or above the floor.
        (7200, 7200, 3600, 10800),
        (2700, 2700, 1350, 4050),
        // Below the floor: the regular window, as update_engine.
        (30, 2700, 2400, 3000),
        (2699, 2700, 2400, 3000),
        // Above the cap: the cap.
        (100_000, 14400, 7200, 21600),
    ])
    func thePollIntervalIsHonouredWithinTheBounds(poll: Int, interval: Int, low: Int, high: Int) {
        let previous = schedule.first(draw: lowest)
        #expect(schedule.next(after: .noUpdate, previous: previous, pollIntervalSeconds: poll, draw: lowest)
            == NextCheck(delaySeconds: low, intervalSeconds: interval))
        #expect(schedule.next(after: .noUpdate, previous: previous, pollIntervalSeconds: poll, draw: highest)
            == NextCheck(delaySeconds: high, intervalSeconds: interval))
    }

    @Test func thePollIntervalWinsOverABackOffAndFeedsTheNextOne() {
        let previous = NextCheck(delaySeconds: 10800, intervalSeconds: 10800)
        let polled = schedule.next(after: .serverError(httpStatus: 503), previous: previous, pollIntervalSeconds: 3600, draw: lowest)
        #expect(polled.intervalSeconds == 3600)
        #expect(schedule.next(after: .serverError(httpStatus: 503), previous: polled, pollIntervalSeconds: nil, draw: lowest).intervalSeconds == 7200)
    }

    @Test(arguments: [0, -60])
    func aPollIntervalOfZeroOrLessIsIgnored(poll: Int) {
        let previous = NextCheck(delaySeconds: 5400, intervalSeconds: 5400)
        #expect(schedule.next(after: .noUpdate, previous: previous, pollIntervalSeconds: poll, draw: lowest).intervalSeconds == 2700)
        #expect(schedule.next(after: .networkFailure, previous: previous, pollIntervalSeconds: poll, draw: lowest).intervalSeconds == 10800)
    }

    @Test func configuredValuesAreClampedToSaneOnes() {
        let odd = CheckSchedule(intervalSeconds: 10, jitterSeconds: -5, initialDelaySeconds: -1, backoffCapSeconds: 30)
        #expect(odd.intervalSeconds == 60)
        #expect(odd.jitterSeconds == 0)
        #expect(odd.initialDelaySeconds == 0)
        #expect(odd.backoffCapSeconds == 60)
        #expect(odd.next(after: .refused, previous: NextCheck(delaySeconds: 60, intervalSeconds: 60), pollIntervalSeconds: nil, draw: highest)
            == NextCheck(delaySeconds: 90, intervalSeconds: 60))
    }

    @Test func aCustomScheduleUsesItsOwnWindowAndFloor() {
        let custom = CheckSchedule(intervalSeconds: 600, jitterSeconds: 120, initialDelaySeconds: 60, backoffCapSeconds: 3600)
        #expect(custom.first(draw: lowest).delaySeconds == 0)
        #expect(custom.first(draw: highest).delaySeconds == 120)
        let next = custom.next(after: .noUpdate, previous: custom.first(draw: lowest), pollIntervalSeconds: nil, draw: lowest)
        #expect(next == NextCheck(delaySeconds: 540, intervalSeconds: 600))
    }

    @Test func theInitialDelayNeverGoesNegative() {
        let eager = CheckSchedule(initialDelaySeconds: 0)
        #expect(eager.first(draw: lowest) == NextCheck(delaySeconds: 0, intervalSeconds: 0))
        #expect(eager.first(draw: highest).delaySeconds == 300)
    }

    /// A fleet started at once must not check in at once: 1000 hosts' first checks cover the
    /// whole 2–12 min window, with no minute holding more than a quarter of them.
    @Test func aFleetsFirstChecksSpreadAcrossTheWindow() {
        var generator = SplitMix64(seed: 0x7A4D_E000_2026)
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<1000 {
            let delay = schedule.first(draw: { Int.random(in: $0, using: &generator) }).delaySeconds
            #expect((120...720).contains(delay))
            buckets[min((delay - 120) / 60, 9)] += 1
        }
        #expect(buckets.allSatisfy { $0 > 0 }, "buckets: \(buckets)")
        #expect(buckets.allSatisfy { $0 <= 250 }, "buckets: \(buckets)")
        // Uniform gives ~100 a minute; 50 is far outside what chance allows for 1000 draws.
        #expect(buckets.allSatisfy { $0 >= 50 }, "buckets: \(buckets)")
    }
}
