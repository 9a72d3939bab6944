import Coordination
import Foundation
import Testing

/// Reboot windows with an injected zone and explicit instants: nothing here depends on the
/// machine's zone or on the real time.
@Suite struct RebootWindowTests {
    /// UTC+2, as Central European Summer Time.
    let zone = LocalTimeZone.fixed(secondsEastOfUTC: 7200)

    /// The instant of a local wall-clock time in `zone` (2024-03-07 is a Thursday).
    func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int = 0, offset: Int = 7200) -> Date {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offset)!
        return calendar.date(from: components)!
    }

    @Test func dailyWindowOutsideInsideAndBothEnds() throws {
        let window = try RebootWindow(start: "04:00", length: "1h", zone: zone)
        #expect(window.weekday == nil && window.hour == 4 && window.minute == 0 && window.length == .seconds(3600))
        let before = local(2024, 3, 7, 3, 30)
        #expect(!window.contains(before))
        #expect(window.nextOpening(after: before) == local(2024, 3, 7, 4, 0))
        #expect(window.contains(local(2024, 3, 7, 4, 0)))
        #expect(window.contains(local(2024, 3, 7, 4, 59, 59)))
        // Both ends are inside, as locksmith's DurationToStart counts them.
        #expect(window.contains(local(2024, 3, 7, 5, 0)))
        #expect(!window.contains(local(2024, 3, 7, 5, 0, 1)))
        // From inside or after it, the next opening is tomorrow's.
        #expect(window.nextOpening(after: local(2024, 3, 7, 4, 0)) == local(2024, 3, 8, 4, 0))
        #expect(window.nextOpening(after: local(2024, 3, 7, 5, 0, 1)) == local(2024, 3, 8, 4, 0))
    }

    @Test func dailyWindowAcrossMidnight() throws {
        let window = try RebootWindow(start: "23:30", length: "1h", zone: zone)
        #expect(window.contains(local(2024, 3, 7, 23, 45)))
        #expect(window.contains(local(2024, 3, 8, 0, 15)))  // opened yesterday
        #expect(window.contains(local(2024, 3, 8, 0, 30)))
        #expect(!window.contains(local(2024, 3, 8, 0, 31)))
        #expect(window.nextOpening(after: local(2024, 3, 8, 0, 31)) == local(2024, 3, 8, 23, 30))
        // Month and year ends roll over.
        #expect(window.nextOpening(after: local(2024, 12, 31, 23, 31)) == local(2025, 1, 1, 23, 30))
        #expect(window.contains(local(2025, 1, 1, 0, 10)))
    }

    @Test func weeklyWindowAcrossMidnightAndTheWeekEnd() throws {
        // Saturday 23:00 for 26 hours: until Monday 01:00.
        let window = try RebootWindow(start: "sAt 23:00", length: "26h", zone: zone)
        #expect(window.weekday == 6)
        #expect(!window.contains(local(2024, 3, 9, 22, 59)))  // Saturday
        #expect(window.nextOpening(after: local(2024, 3, 9, 22, 59)) == local(2024, 3, 9, 23, 0))
        #expect(window.contains(local(2024, 3, 10, 12, 0)))  // Sunday, a new week by weekday
        #expect(window.contains(local(2024, 3, 11, 1, 0)))  // Monday 01:00, the last instant
        #expect(!window.contains(local(2024, 3, 11, 1, 1)))
        #expect(window.nextOpening(after: local(2024, 3, 11, 1, 1)) == local(2024, 3, 16, 23, 0))
        #expect(!window.contains(local(2024, 3, 7, 12, 0)))  // Thursday
    }

    @Test func weeklyWindowWrapsFromSaturdayToSunday() throws {
        let window = try RebootWindow(start: "Sun 01:00", length: "1h", zone: zone)
        #expect(window.nextOpening(after: local(2024, 3, 9, 23, 0)) == local(2024, 3, 10, 1, 0))
        #expect(window.contains(local(2024, 3, 10, 1, 30)))
        #expect(window.nextOpening(after: local(2024, 3, 10, 1, 30)) == local(2024, 3, 17, 1, 0))
        #expect(window.nextOpening(after: local(2024, 3, 10, 2, 30)) == local(2024, 3, 17, 1, 0))
        // A week that began before the start (Sunday 00:30) opens the same day.
        #expect(window.nextOpening(after: local(2024, 3, 10, 0, 30)) == local(2024, 3, 10, 1, 0))
        #expect(!window.contains(local(2024, 3, 10, 0, 30)))
    }

    @Test func theZoneDecidesWhichLocalDayItIs() throws {
        // 23:30 UTC on Saturday is 01:30 Sunday at UTC+2.
        let instant = local(2024, 3, 9, 23, 30, offset: 0)
        #expect(try RebootWindow(start: "sun 01:00", length: "1h", zone: zone).contains(instant))
        #expect(!(try RebootWindow(start: "sun 01:00", length: "1h", zone: .utc).contains(instant)))
        #expect(try RebootWindow(start: "sat 23:00", length: "1h", zone: .utc).contains(instant))
    }

    @Test func aStartSkippedByDaylightSavingLandsAsGoPutsIt() throws {
        // UTC+1 until 2024-03-31 01:00 UTC, UTC+2 after: 02:30 local does not exist that day.
        let jump = Int64(local(2024, 3, 31, 1, 0, offset: 0).timeIntervalSince1970)
        let europe = LocalTimeZone { $0 < jump ? 3600 : 7200 }
        let window = try RebootWindow(start: "02:30", length: "30m", zone: europe)
        let opening = window.nextOpening(after: local(2024, 3, 31, 0, 0, offset: 3600))
        // Go's time.Date takes the offset after the jump, then corrects it: 01:30 UTC.
        #expect(opening == local(2024, 3, 31, 1, 30, offset: 0))
        // The days around it are ordinary.
        #expect(window.nextOpening(after: opening) == local(2024, 4, 1, 2, 30, offset: 7200))
        #expect(window.nextOpening(after: local(2024, 3, 29, 12, 0, offset: 3600)) == local(2024, 3, 30, 2, 30, offset: 3600))
    }

    @Test(arguments: [
        ("1h30m", 5400.0), ("90m", 5400), ("45s", 45), ("1.5h", 5400), (".5h", 1800), ("1h0m30s", 3630),
        ("300ms", 0.3), ("1500us", 0.0015), ("1µs", 0.000001), ("2ns", 0.000000002), ("+5m", 300), ("0", 0), ("0s", 0),
        ("23h59m59s", 86399),
    ])
    func goDurations(length: String, seconds: Double) throws {
        let window = try RebootWindow(start: "00:00", length: length, zone: zone)
        let (whole, attoseconds) = window.length.components
        #expect(abs(Double(whole) + Double(attoseconds) / 1e18 - seconds) < 1e-9)
    }

    @Test func startSyntaxAsLocksmithReadsIt() throws {
        let window = try RebootWindow(start: "  tHu   4:5 ", length: "1m", zone: zone)
        #expect(window.weekday == 4 && window.hour == 4 && window.minute == 5)
        #expect(try RebootWindow(start: "00:00", length: "0", zone: zone).hour == 0)
        #expect(try RebootWindow(start: "Mon 23:59", length: "167h59m", zone: zone).minute == 59)
    }

    @Test(arguments: [
        ("24:00", "1h", RebootWindowError.hourOutOfRange(start: "24:00", hour: 24)),
        ("-1:00", "1h", .hourOutOfRange(start: "-1:00", hour: -1)),
        ("04:60", "1h", .minuteOutOfRange(start: "04:60", minute: 60)),
        ("Monday 04:00", "1h", .unknownDay(start: "Monday 04:00", day: "Monday")),
        ("04:00 mon", "1h", .unknownDay(start: "04:00 mon", day: "04:00")),
        ("mon 04:00 x", "1h", .malformedStart("mon 04:00 x")),
        ("", "1h", .malformedStart("")),
        ("0400", "1h", .malformedTime(start: "0400", time: "0400")),
        ("04:00am", "1h", .malformedTime(start: "04:00am", time: "04:00am")),
        ("04:00", "", .malformedLength(length: "", reason: "invalid number")),
        ("04:00", "1", .malformedLength(length: "1", reason: "a number has no unit")),
        ("04:00", "1d", .malformedLength(length: "1d", reason: "unknown unit \"d\"")),
        ("04:00", "1h 30m", .malformedLength(length: "1h 30m", reason: "unknown unit \"h \"")),
        ("04:00", "..5h", .malformedLength(length: "..5h", reason: "invalid number")),
        ("04:00", "9999999999h", .malformedLength(length: "9999999999h", reason: "too large")),
        ("04:00", "-1h", .negativeLength("-1h")),
        ("04:00", "24h", .lengthTooLong(length: "24h", weekly: false)),
        ("sun 04:00", "168h", .lengthTooLong(length: "168h", weekly: true)),
    ])
    func refusals(start: String, length: String, expected: RebootWindowError) {
        #expect(throws: expected) { try RebootWindow(start: start, length: length, zone: zone) }
        #expect(!expected.description.isEmpty)
    }

    @Test func bothSettingsOrNeither() throws {
        #expect(try RebootWindow.configured(start: nil, length: nil, zone: zone) == nil)
        #expect(throws: RebootWindowError.incomplete(missing: "length")) {
            try RebootWindow.configured(start: "04:00", length: nil, zone: zone)
        }
        #expect(throws: RebootWindowError.incomplete(missing: "start")) {
            try RebootWindow.configured(start: nil, length: "1h", zone: zone)
        }
        let window = try #require(try RebootWindow.configured(start: "04:00", length: "1h", zone: zone))
        #expect("\(window)" == "04:00 for 1h")
    }

    @Test func theSystemZoneFollowsTheCLibrary() {
        // Whatever the machine's zone, the offset is whole minutes within ±14 h.
        let offset = LocalTimeZone.system.utcOffset(Int64(Date().timeIntervalSince1970))
        #expect(abs(offset) <= 14 * 3600 && offset % 60 == 0)
    }
}
