import Foundation
import Logging
import Testing
import TestSupport
@testable import Service

struct StderrLogHandlerTests {
    @Test func linesHoldLevelMessageAndSortedMetadata() {
        let lines = CapturedLines()
        var logger = Logger(label: "test") { _ in StderrLogHandler(timestamps: false, metadataProvider: nil, output: lines.append) }
        logger[metadataKey: "slot"] = "b"
        logger.info("installing", metadata: ["version": "2.0", "attempt": "3"])
        logger.warning("slow disk", metadata: ["slot": "a"])
        #expect(lines.all == [
            "info installing attempt=3 slot=b version=2.0\n",
            "warning slow disk slot=a\n",
        ])
    }

    @Test func entriesBelowTheLevelAreDropped() {
        let lines = CapturedLines()
        var logger = Logger(label: "test") { _ in StderrLogHandler(timestamps: false, metadataProvider: nil, output: lines.append) }
        logger.logLevel = .notice
        logger.info("hidden")
        logger.notice("shown")
        #expect(lines.all == ["notice shown\n"])
    }

    @Test func providerMetadataAndErrorsAreIncluded() {
        let lines = CapturedLines()
        let provider = Logger.MetadataProvider { ["operation": "check"] }
        let logger = Logger(label: "test") { _ in StderrLogHandler(timestamps: false, metadataProvider: provider, output: lines.append) }
        logger.error("failed", error: SampleError())
        #expect(lines.all == ["error failed error.message=the disk is gone error.type=ServiceTests.SampleError operation=check\n"])
    }

    @Test func timestampsLeadTheLineWhenAskedFor() throws {
        let lines = CapturedLines()
        let logger = Logger(label: "test") { _ in StderrLogHandler(timestamps: true, metadataProvider: nil, output: lines.append) }
        logger.info("hello")
        let line = try #require(lines.all.first)
        #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info hello\n/) != nil, "\(line)")
    }
}

struct JournalFieldTests {
    @Test func metadataKeysBecomeJournalFieldNames() {
        #expect(JournalFieldName.sanitize("slot") == "SLOT")
        #expect(JournalFieldName.sanitize("error.message") == "ERROR_MESSAGE")
        #expect(JournalFieldName.sanitize("bytes-written") == "BYTES_WRITTEN")
        #expect(JournalFieldName.sanitize("errno") == "ERRNO")
        #expect(JournalFieldName.sanitize(String(repeating: "a", count: 100)) == String(repeating: "A", count: 64))
    }

    @Test func namesJournaldWouldRefuseOrThatClashGetAPrefix() {
        // A leading underscore marks journald's own trusted fields; clients' are dropped.
        #expect(JournalFieldName.sanitize("_SYSTEMD_UNIT") == "TANDEM__SYSTEMD_UNIT")
        #expect(JournalFieldName.sanitize("Ünïcode key") == "TANDEM__N_CODE_KEY")
        #expect(JournalFieldName.sanitize("2fa") == "TANDEM_2FA")
        #expect(JournalFieldName.sanitize("") == "TANDEM_")
        #expect(JournalFieldName.sanitize("message") == "TANDEM_MESSAGE")
        #expect(JournalFieldName.sanitize("code_line") == "TANDEM_CODE_LINE")
    }

    @Test func entryFieldsInOrder() {
        let event = LogEvent(level: .warning, message: "disk\nfull", metadata: nil, source: nil,
                             file: "Engine/Updater.swift", function: "install()", line: 42)
        let fields = JournalLogHandler.fields(for: event, metadata: ["slot": "b", "message": "x", "error.type": "E"],
                                              identifier: "tandemd")
        #expect(fields == [
            "MESSAGE=disk\nfull",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=tandemd",
            "CODE_FILE=Engine/Updater.swift",
            "CODE_LINE=42",
            "CODE_FUNC=install()",
            "ERROR_TYPE=E",
            "TANDEM_MESSAGE=x",
            "SLOT=b",
        ])
    }

    @Test func levelsMapToSyslogPriorities() {
        let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
        #expect(levels.map(JournalLogHandler.priority(of:)) == [7, 7, 6, 5, 4, 3, 2])
    }

    @Test func laterMetadataSourcesWin() {
        let event = LogEvent(level: .info, message: "m", metadata: ["c": "3"], source: nil, file: "f", function: "g", line: 1)
        let merged = event.effectiveMetadata(handler: ["a": "1", "b": "1"], provider: Logger.MetadataProvider { ["b": "2", "c": "2"] })
        #expect(merged.mapValues(\.description) == ["a": "1", "b": "2", "c": "3"])
    }
}

struct SampleError: Error, CustomStringConvertible {
    var description: String { "the disk is gone" }
}

/// Collects what a handler writes, from any thread.
final class CapturedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var all: [String] { lock.withLock { lines } }

    @Sendable func append(_ line: String) {
        lock.withLock { lines.append(line) }
    }
}
