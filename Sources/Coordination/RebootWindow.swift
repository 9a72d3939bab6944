import FoundationEssentials

/// When a host may reboot: a daily or weekly window in local time, with locksmithd's syntax and
/// its arithmetic (`pkg/timeutil/periodic.go`), so that a fleet keeps the windows it has.
///
/// The start is `"HH:MM"` (every day) or `"<day> HH:MM"` (every week, day `sun`...`sat` in any
/// case); the length is a Go duration (`1h30m`) under 24 h, or under 7 days with a day. Each
/// opening starts at that wall-clock time on its local date and lasts `length` of real time,
/// both ends included, as locksmith's `DurationToStart` counts them.
public struct RebootWindow: Sendable, CustomStringConvertible {
    /// 0 = Sunday ... 6 = Saturday; nil for a daily window.
    public let weekday: Int?
    public let hour: Int
    public let minute: Int
    public let length: Duration
    public let zone: LocalTimeZone
    /// The texts it was parsed from, for messages.
    public let startText: String
    public let lengthText: String

    private static let weekdays = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    public init(start: String, length: String, zone: LocalTimeZone = .system) throws(RebootWindowError) {
        let fields = start.split(whereSeparator: \.isWhitespace)
        let timeField: Substring
        switch fields.count {
        case 1:
            weekday = nil
            timeField = fields[0]
        case 2:
            guard let day = RebootWindow.weekdays[fields[0].lowercased()] else {
                throw .unknownDay(start: start, day: String(fields[0]))
            }
            weekday = day
            timeField = fields[1]
        default:
            throw .malformedStart(start)
        }
        // Go's Sscanf("%d:%d") reads a signed decimal on each side. It would ignore text after
        // the minute; that is refused here, because it is always a mistake.
        let parts = timeField.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let hour = RebootWindow.signedDecimal(parts[0]), let minute = RebootWindow.signedDecimal(parts[1]) else {
            throw .malformedTime(start: start, time: String(timeField))
        }
        guard (0...23).contains(hour) else { throw .hourOutOfRange(start: start, hour: hour) }
        guard (0...59).contains(minute) else { throw .minuteOutOfRange(start: start, minute: minute) }
        self.hour = hour
        self.minute = minute

        let nanoseconds: Int64
        do {
            nanoseconds = try GoDuration.nanoseconds(length)
        } catch {
            let reason = switch error {
            case .invalid: "invalid number"
            case .missingUnit: "a number has no unit"
            case let .unknownUnit(unit): "unknown unit \"\(unit)\""
            case .overflow: "too large"
            }
            throw .malformedLength(length: length, reason: reason)
        }
        guard nanoseconds >= 0 else { throw .negativeLength(length) }
        let period: Int64 = (weekday == nil ? 1 : 7) * 86_400 * 1_000_000_000
        guard nanoseconds < period else { throw .lengthTooLong(length: length, weekly: weekday != nil) }
        self.length = .nanoseconds(nanoseconds)
        self.zone = zone
        self.startText = start
        self.lengthText = length
    }

    /// The window a host is configured with: both settings or neither (no window, reboot at any
    /// time), as locksmithd insists.
    public static func configured(start: String?, length: String?, zone: LocalTimeZone = .system) throws(RebootWindowError) -> RebootWindow? {
        switch (start, length) {
        case (nil, nil): return nil
        case (nil, _): throw .incomplete(missing: "start")
        case (_, nil): throw .incomplete(missing: "length")
        case let (start?, length?): return try RebootWindow(start: start, length: length, zone: zone)
        }
    }

    public var description: String { "\(startText) for \(lengthText)" }

    /// Whether `instant` is inside the window (its ends included).
    public func contains(_ instant: Date) -> Bool {
        let start = latestOpening(atOrBefore: instant)
        return instant <= start.addingTimeInterval(seconds(length))
    }

    /// When the window next opens strictly after `instant`: where to sleep to when outside it.
    public func nextOpening(after instant: Date) -> Date {
        let (local, reference) = civil(instant)
        let today = weekday.map { $0 - local.weekday } ?? 0
        let thisPeriod = opening(on: local, addingDays: today)
        if reference < Double(thisPeriod) { return Date(timeIntervalSince1970: Double(thisPeriod)) }
        let next = opening(on: local, addingDays: today + (weekday == nil ? 1 : 7))
        return Date(timeIntervalSince1970: Double(next))
    }

    /// The most recent opening at or before `instant`: locksmith's `Previous`.
    private func latestOpening(atOrBefore instant: Date) -> Date {
        let (local, reference) = civil(instant)
        let today = weekday.map { $0 - local.weekday } ?? 0
        var start = opening(on: local, addingDays: today)
        if reference < Double(start) {
            start = opening(on: local, addingDays: today - (weekday == nil ? 1 : 7))
        }
        return Date(timeIntervalSince1970: Double(start))
    }

    /// The local date of `instant`, and the instant itself in seconds since the epoch.
    private func civil(_ instant: Date) -> (CivilTime, Double) {
        let seconds = instant.timeIntervalSince1970
        return (zone.civilTime(at: Int64(seconds.rounded(.down))), seconds)
    }

    /// The window's start time on the local date `days` after `local`'s, as an instant.
    private func opening(on local: CivilTime, addingDays days: Int) -> Int64 {
        zone.instant(of: CivilTime(year: local.year, month: local.month, day: local.day + days,
                                   hour: hour, minute: minute, second: 0))
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func signedDecimal(_ text: Substring) -> Int? {
        var digits = text
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ ("0"..."9").contains($0) }), let value = Int(digits) else { return nil }
        return negative ? -value : value
    }
}
