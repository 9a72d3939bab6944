import Foundation
import Slots
import TestSupport
import Testing

/// tandemd as systemd runs it: readiness, status line, watchdog, start-up StatusUpdate,
/// configuration errors, and a clean stop.
@Suite("tandemd lifecycle") struct DaemonLifecycleTests {
    @Test("READY=1 after both names are owned; STATUS= summarises; SIGTERM exits 0")
    func readiness() throws {
        let harness = try DaemonHarness()
        let lines = try harness.start()
        #expect(lines.contains { $0.hasPrefix("STATUS=booted A (\(DaemonHarness.hostVersion)); idle") }, "\(lines)")
        for name in ["org.tandem.Updater1", "com.coreos.update1"] {
            let owner = try harness.busctl(["call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "NameHasOwner", "s", name])
            #expect(owner.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "b true", "\(name): \(owner.stdout)")
        }
        #expect(harness.stop() == 0)
        #expect(harness.log.contains("stopping"))
    }

    @Test("WATCHDOG=1 is sent when the service manager sets WATCHDOG_USEC")
    func watchdog() throws {
        let harness = try DaemonHarness()
        try harness.start(environment: ["WATCHDOG_USEC": "400000"])
        let (pinged, lines) = harness.notify.wait(timeout: 5) { $0 == "WATCHDOG=1" }
        #expect(pinged, "\(lines)")
        harness.stop()
    }

    @Test("one StatusUpdate at start-up, as update_engine sends")
    func startupStatusUpdate() throws {
        let harness = try DaemonHarness()
        let listener = try LocksmithListener(address: harness.bus.address)
        try harness.start()
        #expect(try listener.wait(for: "UPDATE_STATUS_IDLE", timeout: 10))
        #expect(listener.signatures.first == "xdssx")
        harness.stop()
    }

    @Test("a configuration error stops tandemd with exit 1 and names the file and line")
    func badConfiguration() throws {
        let harness = try DaemonHarness(settings: "[Update]\nTrialTries=99\n")
        #expect(throws: DaemonHarness.StartFailure.self) { try harness.start() }
        #expect(harness.log.contains("\(harness.configPath):"), "\(harness.log)")
        #expect(harness.log.contains("TrialTries=99 is not valid"), "\(harness.log)")
    }

    /// After a fallback, the older tandemd reads the /etc that was written for the newer one.
    @Test("a key or section tandemd does not know is logged and ignored: tandemd starts and serves")
    func unknownSettingsAreIgnored() throws {
        let harness = try DaemonHarness(settings: "[Update]\nFutureKey=1\n\n[Telemetry]\nEndpoint=https://example.invalid/\n")
        try harness.start()
        #expect(harness.log.contains("\(harness.configPath):"), "\(harness.log)")
        #expect(harness.log.contains("[Update] has no key FutureKey"), "\(harness.log)")
        #expect(harness.log.contains("unknown section [Telemetry]"), "\(harness.log)")
        #expect(harness.log.contains("ignored: a setting of a newer tandemd, or a misspelling"), "\(harness.log)")
        #expect(try harness.updatectlJSON(["status", "--json"])["operation"] as? String == "idle")
        #expect(harness.stop() == 0)
    }

    @Test("an unreadable boot id stops tandemd: reboots could not be told from restarts")
    func unreadableBootID() throws {
        let harness = try DaemonHarness(settings: "[Host]\nBootIDFile=/nonexistent/boot_id\n")
        #expect(throws: DaemonHarness.StartFailure.self) { try harness.start() }
        #expect(harness.log.contains("cannot read the boot id from /nonexistent/boot_id"), "\(harness.log)")
    }

    /// A disk problem, not a configuration error: tandemd stays up (blessing depends on it),
    /// says which slot is missing, and refuses what needs the slots.
    @Test("a missing slot is reported by a running tandemd, saying which")
    func missingSlot() throws {
        let harness = try DaemonHarness(settings: "[Slots]\nLabelB=USR-C\n")
        try harness.start()
        #expect(harness.log.contains("has no partition labelled USR-C"), "\(harness.log)")
        let json = try harness.updatectlJSON(["status", "--json"])
        #expect((json["diskProblem"] as? String)?.contains("has no partition labelled USR-C") == true, "\(json)")
        let refused = try harness.updatectl(["mark-bad", "B"])
        #expect(refused.status == 1 && refused.stderr.contains("USR-C"), "\(refused.stderr)")
        #expect(harness.stop() == 0)
    }
}
