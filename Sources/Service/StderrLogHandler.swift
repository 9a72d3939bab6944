#if canImport(Glibc)
import Glibc
#endif
import Logging

/// A swift-log handler that writes plain lines, `[time ]level message key=value …`, for a
/// terminal or a log file. The time is left out where journald records the stream, since it
/// stamps every line itself.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let timestamps: Bool
    private let output: @Sendable (String) -> Void

    /// `output` receives each complete line, newline included; without it lines go to stderr.
    public init(
        timestamps: Bool,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        output: (@Sendable (String) -> Void)? = nil
    ) {
        self.timestamps = timestamps
        self.metadataProvider = metadataProvider
        self.output = output ?? { StandardError.write($0) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let entryMetadata = event.effectiveMetadata(handler: metadata, provider: metadataProvider)
        output(Self.line(for: event, metadata: entryMetadata, timestamp: timestamps ? Self.now() : nil))
    }

    /// One line: the timestamp if any, the level, the message, then the metadata sorted by
    /// key so that equal entries print equally.
    static func line(for event: LogEvent, metadata: Logger.Metadata, timestamp: String?) -> String {
        var line = timestamp.map { $0 + " " } ?? ""
        line += "\(event.level) \(event.message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        return line + "\n"
    }

    /// Local time to the millisecond, e.g. `2025-06-01 14:03:07.042`.
    static func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var parts = tm()
        localtime_r(&time.tv_sec, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        let milliseconds = time.tv_nsec / 1_000_000
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) + "." + fraction
    }
}
