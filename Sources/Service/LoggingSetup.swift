#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Where the process's log entries go, chosen once at start-up.
public enum LoggingSetup {
    public enum Destination: Equatable, Sendable {
        /// Structured entries through sd_journal_sendv (`JournalLogHandler`).
        case journal
        /// Plain lines on stderr (`StderrLogHandler`).
        case standardError(timestamps: Bool)
    }

    /// The journal when stderr is systemd's journal stream, stderr otherwise. On stderr the
    /// time is left out while `JOURNAL_STREAM` is set: the process then runs under systemd
    /// and its stderr is relayed into the journal by whoever redirected it, and journald
    /// stamps every entry.
    public static func detectedDestination() -> Destination {
        let stream = getenv("JOURNAL_STREAM").map { String(cString: $0) }
        if JournalStream.connects(descriptor: STDERR_FILENO, variable: stream) {
            return .journal
        }
        return .standardError(timestamps: stream == nil)
    }

    /// Installs the handlers for every `Logger` in the process. swift-log allows this once
    /// per process: call it first thing in `main`, before any logger is made.
    public static func bootstrap(identifier: String, level: Logger.Level, destination: Destination = detectedDestination()) {
        LoggingSystem.bootstrap { _ in
            switch destination {
            case .journal:
                var handler = JournalLogHandler(identifier: identifier)
                handler.logLevel = level
                return handler
            case let .standardError(timestamps):
                var handler = StderrLogHandler(timestamps: timestamps)
                handler.logLevel = level
                return handler
            }
        }
    }
}
