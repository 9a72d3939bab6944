/// A wall-clock date and time with no zone, and the proleptic Gregorian arithmetic that turns it
/// into a count of seconds and back. Reboot windows need only this much of a calendar, and doing
/// it here keeps the zone injectable (FoundationEssentials has no zone database of its own).
struct CivilTime: Equatable {
    var year: Int
    var month: Int  // 1...12
    var day: Int  // 1...31; out-of-range days are normalized by `secondsAsIfUTC`, as Go's time.Date does
    var hour: Int
    var minute: Int
    var second: Int

    /// 0 = Sunday ... 6 = Saturday, as Go's `time.Weekday`.
    var weekday: Int {
        // 1970-01-01 was a Thursday (4).
        let days = CivilTime.daysFromEpoch(year: year, month: month, day: day)
        return ((days % 7) + 7 + 4) % 7
    }

    /// Seconds since 1970-01-01 00:00 of this wall-clock time read as if it were UTC.
    var secondsAsIfUTC: Int64 {
        let days = CivilTime.daysFromEpoch(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The wall-clock time `seconds` after 1970-01-01 00:00 (no zone).
    init(secondsAsIfUTC seconds: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        (year, month, day) = CivilTime.civil(fromDaysSinceEpoch: Int(days))
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// Howard Hinnant's days_from_civil; a day beyond the month's end simply runs on into the next.
    private static func daysFromEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's civil_from_days.
    private static func civil(fromDaysSinceEpoch days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
