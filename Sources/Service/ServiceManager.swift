#if canImport(Glibc)
import Glibc
#endif
import CSystemd

/// Notifications to systemd about the daemon's state (sd_notify(3)) and the watchdog it expects.
/// Outside systemd, or when the unit is not `Type=notify`, `NOTIFY_SOCKET` is unset and every
/// notification is skipped; each call says whether it was sent, so that callers can tell the
/// two apart in logs and tests.
public enum ServiceManager {
    /// Tells systemd that start-up is complete: with `Type=notify`, units ordered after this
    /// one start now, and `systemctl start` returns.
    @discardableResult
    public static func ready() throws(ServiceManagerError) -> Bool {
        try notify("READY=1")
    }

    /// Sets the one-line status `systemctl status` shows. The protocol separates assignments
    /// with newlines, so line breaks inside `line` become spaces rather than ending the status
    /// early.
    @discardableResult
    public static func status(_ line: String) throws(ServiceManagerError) -> Bool {
        try notify("STATUS=" + String(line.map { $0.isNewline ? " " : $0 }))
    }

    /// Tells systemd that the daemon is shutting down on purpose, so that the stop it sees next
    /// is not mistaken for a crash while the final checkpoint is written.
    @discardableResult
    public static func stopping() throws(ServiceManagerError) -> Bool {
        try notify("STOPPING=1")
    }

    /// Resets the watchdog timer (`WatchdogSec=`); see `watchdogInterval`.
    @discardableResult
    public static func ping() throws(ServiceManagerError) -> Bool {
        try notify("WATCHDOG=1")
    }

    /// How often systemd expects `ping()` at the latest, or nil when this process has no
    /// watchdog (no `WatchdogSec=`, or the variables name another process). sd_watchdog_enabled(3)
    /// recommends pinging at half this interval.
    public static var watchdogInterval: Duration? {
        get throws(ServiceManagerError) {
            var microseconds: UInt64 = 0
            let result = sd_watchdog_enabled(0, &microseconds)
            if result < 0 {
                throw .watchdogSettings(code: -result, usec: environment("WATCHDOG_USEC"), pid: environment("WATCHDOG_PID"))
            }
            guard result > 0 else { return nil }
            return .microseconds(Int64(clamping: microseconds))
        }
    }

    private static func notify(_ state: String) throws(ServiceManagerError) -> Bool {
        let result = sd_notify(0, state)
        if result < 0 {
            throw .notify(state: state, code: -result, socket: environment("NOTIFY_SOCKET"))
        }
        return result > 0
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
