import Foundation
import Testing
import TestSupport

/// Integration's skip-or-fail pattern for the tools these tests need: cancelled (reported as
/// skipped) with the reason, or a failure when TANDEM_REQUIRE_INTEGRATION=1.
func require(_ condition: Bool, _ what: String) throws {
    if condition { return }
    if Integration.required {
        throw Missing(description: "\(what), and TANDEM_REQUIRE_INTEGRATION=1 forbids skipping")
    }
    try Test.cancel("skipped: \(what); set TANDEM_REQUIRE_INTEGRATION=1 to make this a failure")
}

struct Missing: Error, CustomStringConvertible {
    var description: String
}

/// journald listening and journalctl able to read what it stored.
func requireJournal() throws {
    try require(FileManager.default.fileExists(atPath: "/run/systemd/journal/socket") && Shell.which("journalctl"),
                "journald is not running (no /run/systemd/journal/socket)")
}
