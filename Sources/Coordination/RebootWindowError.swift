/// Why a reboot window's start or length was refused. The syntax is locksmithd's
/// (`LOCKSMITHD_REBOOT_WINDOW_START`/`_LENGTH`), so a setting copied from a locksmith host works.
public enum RebootWindowError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A start or a length was given without the other.
    case incomplete(missing: String)
    /// Not one or two whitespace-separated fields.
    case malformedStart(String)
    case unknownDay(start: String, day: String)
    /// The time of day is not `H:M` with decimal numbers.
    case malformedTime(start: String, time: String)
    case hourOutOfRange(start: String, hour: Int)
    case minuteOutOfRange(start: String, minute: Int)
    /// Not a Go duration; `reason` says which part.
    case malformedLength(length: String, reason: String)
    case negativeLength(String)
    /// At least the window's period: it would never close.
    case lengthTooLong(length: String, weekly: Bool)

    public var description: String {
        let startForm = "write it as \"HH:MM\" (every day) or \"<day> HH:MM\" (every week), e.g. \"04:00\" or \"Thu 23:30\""
        switch self {
        case let .incomplete(missing):
            return "the reboot window has no \(missing); give both its start and its length, or neither for no window"
        case let .malformedStart(start):
            return "the reboot window start \"\(start)\" is not a time of day with an optional day; " + startForm
        case let .unknownDay(start, day):
            return "the reboot window start \"\(start)\" names the day \"\(day)\"; use a three-letter day: "
                + "sun, mon, tue, wed, thu, fri or sat (any case)"
        case let .malformedTime(start, time):
            return "the reboot window start \"\(start)\" has the time \"\(time)\", which is not hours:minutes; " + startForm
        case let .hourOutOfRange(start, hour):
            return "the reboot window start \"\(start)\" has the hour \(hour); the hour must be 0 to 23"
        case let .minuteOutOfRange(start, minute):
            return "the reboot window start \"\(start)\" has the minute \(minute); the minute must be 0 to 59"
        case let .malformedLength(length, reason):
            return "the reboot window length \"\(length)\" is not a duration (\(reason)); "
                + "write it like \"1h30m\", \"90m\" or \"45s\" (units h, m, s, ms, us, ns)"
        case let .negativeLength(length):
            return "the reboot window length \"\(length)\" is negative; give a length of 0 or more"
        case let .lengthTooLong(length, weekly):
            return weekly
                ? "the reboot window length \"\(length)\" is 7 days or more, so a weekly window would never close; make it shorter than 168h"
                : "the reboot window length \"\(length)\" is 24 hours or more, so a daily window would never close; "
                    + "make it shorter than 24h, or give a day to make the window weekly"
        }
    }
}
