#if canImport(Glibc)
import Glibc
#endif

/// Why a notification could not reach systemd, or why its watchdog settings made no sense.
/// The daemon keeps running in both cases; systemd may then time the start-up out or stop the
/// watchdog-less daemon, and these messages say why.
public enum ServiceManagerError: Error, CustomStringConvertible {
    case notify(state: String, code: CInt, socket: String?)
    case watchdogSettings(code: CInt, usec: String?, pid: String?)

    public var description: String {
        switch self {
        case let .notify(state, code, socket):
            return "could not send '\(state)' to the service manager at NOTIFY_SOCKET=\(socket ?? "(unset)"): "
                + "\(Self.describe(code)); systemd may consider the service failed or unresponsive"
        case let .watchdogSettings(code, usec, pid):
            return "the watchdog settings from the service manager are invalid (WATCHDOG_USEC=\(usec ?? "(unset)"), "
                + "WATCHDOG_PID=\(pid ?? "(unset)")): \(Self.describe(code)); check WatchdogSec= in the unit"
        }
    }

    private static func describe(_ code: CInt) -> String {
        String(cString: strerror(code))
    }
}
