import Foundation
import TestSupport
import Testing

/// tandemd's log entries reach a real journald with their structured fields. No journald runs
/// here, so the test starts one, in a private mount namespace whose /run/systemd and /run/log
/// are its own, and reads the entries back with journalctl.
@Suite("journald") struct JournalTests {
    @Test("a failure to start is logged to the journal as a critical entry with code fields")
    func entriesReachTheJournal() throws {
        let journald = "/lib/systemd/systemd-journald"
        try Integration.require(getuid() == 0 && FileManager.default.isExecutableFile(atPath: journald)
                                    && Shell.which("unshare") && Shell.which("journalctl"),
                                "a private journald needs root, unshare, journalctl and \(journald) (apt-get install systemd)")
        // Mount points for the namespace's own tmpfs; empty directories on the host are harmless.
        try FileManager.default.createDirectory(atPath: "/run/systemd", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "/run/log", withIntermediateDirectories: true)
        let script = """
            set -e
            mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/journal
            mount -t tmpfs tmpfs /run/log
            \(journald) & journald=$!
            for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
            '\(BuiltExecutable.path("tandemd"))' --log-target journal --config /nonexistent/tandem.conf || echo "tandemd exit $?"
            for i in $(seq 50); do
                journalctl -D /run/log/journal --output=json --no-pager SYSLOG_IDENTIFIER=tandemd | grep -q MESSAGE && break
                sleep 0.1
            done
            journalctl -D /run/log/journal --output=json --no-pager SYSLOG_IDENTIFIER=tandemd
            kill -KILL $journald
            """
        let output = try Shell.capture(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
        #expect(output.stdout.contains("tandemd exit 1"), "\(output.stdout)\(output.stderr)")
        let line = try #require(output.stdout.split(separator: "\n").first { $0.hasPrefix("{") }, "\(output.stdout)\(output.stderr)")
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(entry["MESSAGE"] as? String == "cannot start: cannot read the configuration /nonexistent/tandem.conf: no such file")
        #expect(entry["PRIORITY"] as? String == "2")
        #expect(entry["SYSLOG_IDENTIFIER"] as? String == "tandemd")
        #expect(entry["CODE_FILE"] as? String == "tandemd/Tandemd.swift")
        #expect(entry["_TRANSPORT"] as? String == "journal", "sent with sd_journal_sendv, not through stderr")
    }
}
