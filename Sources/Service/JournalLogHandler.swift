#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import Logging

/// A swift-log handler that writes each entry to the systemd journal as structured fields with
/// sd_journal_sendv(3): the message, its syslog priority, the identifier, the source location,
/// and every metadata key as a field of its own, so that `journalctl -p err` and
/// `journalctl SLOT=b` work. An entry the journal refuses is written to stderr instead.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let identifier: String

    /// `identifier` becomes `SYSLOG_IDENTIFIER`, what `journalctl -t` selects and shows
    /// before each line.
    public init(identifier: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.identifier = identifier
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let entryMetadata = event.effectiveMetadata(handler: metadata, provider: metadataProvider)
        let fields = Self.fields(for: event, metadata: entryMetadata, identifier: identifier)
        if Self.send(fields) < 0 {
            StandardError.write(StderrLogHandler.line(for: event, metadata: entryMetadata, timestamp: nil))
        }
    }

    /// The entry's fields, each `NAME=value`. Values may hold newlines: sd_journal_sendv
    /// frames such values by length.
    static func fields(for event: LogEvent, metadata: Logger.Metadata, identifier: String) -> [String] {
        var fields = [
            "MESSAGE=\(event.message)",
            "PRIORITY=\(priority(of: event.level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=\(event.function)",
        ]
        fields.reserveCapacity(fields.count + metadata.count)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append("\(JournalFieldName.sanitize(key))=\(value)")
        }
        return fields
    }

    /// The syslog priority journald stores (0 emerg … 7 debug). syslog has nothing below
    /// debug, so trace shares it.
    static func priority(of level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Sends the fields in one datagram; returns sd_journal_sendv's result (negative errno on
    /// failure). The fields are copied into one buffer so that a single iovec array can point
    /// into it.
    private static func send(_ fields: [String]) -> CInt {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.utf8.count })
        var ends: [Int] = []
        ends.reserveCapacity(fields.count)
        for field in fields {
            bytes.append(contentsOf: field.utf8)
            ends.append(bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer -> CInt in
            guard let base = buffer.baseAddress else { return -EINVAL }
            var vectors: [iovec] = []
            vectors.reserveCapacity(ends.count)
            var start = 0
            for end in ends {
                vectors.append(iovec(iov_base: base + start, iov_len: end - start))
                start = end
            }
            return sd_journal_sendv(vectors, CInt(vectors.count))
        }
    }
}
