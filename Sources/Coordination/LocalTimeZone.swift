#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How far local time is from UTC at a given instant: all a reboot window needs of a time zone.
/// Production uses the C library's zone (`TZ`, else `/etc/localtime`), as locksmithd uses Go's
/// `time.Local`; tests inject a fixed offset or their own rules, so they depend neither on the
/// machine's zone nor on daylight-saving dates.
public struct LocalTimeZone: Sendable {
    /// Seconds east of UTC in effect at `secondsSinceEpoch` (UTC).
    public let utcOffset: @Sendable (_ secondsSinceEpoch: Int64) -> Int

    public init(utcOffset: @escaping @Sendable (_ secondsSinceEpoch: Int64) -> Int) {
        self.utcOffset = utcOffset
    }

    /// A zone that is always `seconds` east of UTC.
    public static func fixed(secondsEastOfUTC seconds: Int) -> LocalTimeZone {
        LocalTimeZone { _ in seconds }
    }

    public static let utc = fixed(secondsEastOfUTC: 0)

    /// The system's zone, read through `localtime_r` at every question, so that a change of
    /// `/etc/localtime` or a daylight-saving switch is seen without a restart.
    public static let system = LocalTimeZone { seconds in
        var time = time_t(seconds)
        var broken = tm()
        guard localtime_r(&time, &broken) != nil else { return 0 }
        return Int(broken.tm_gmtoff)
    }

    /// The local wall-clock time at an instant.
    func civilTime(at secondsSinceEpoch: Int64) -> CivilTime {
        CivilTime(secondsAsIfUTC: secondsSinceEpoch + Int64(utcOffset(secondsSinceEpoch)))
    }

    /// The instant a local wall-clock time names, resolved as Go's `time.Date` does: the
    /// offset in effect at the naive guess, corrected once if that offset does not hold at the
    /// result. A time skipped by a daylight-saving jump therefore lands just after the jump,
    /// and a repeated time picks one of its two instants.
    func instant(of civil: CivilTime) -> Int64 {
        let naive = civil.secondsAsIfUTC
        let guess = Int64(utcOffset(naive))
        let corrected = Int64(utcOffset(naive - guess))
        return naive - corrected
    }
}
