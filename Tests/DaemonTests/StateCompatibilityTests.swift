import Foundation
import Slots
import TestSupport
import Testing

/// After a fallback the older tandemd runs against the state the newer one wrote, during the
/// very boot that must be blessed; and a state file may be truncated by bad luck. Either way
/// tandemd must start, report the boot and bless it.
@Suite("state compatibility") struct StateCompatibilityTests {
    /// Installs 2.0.0 into B, stops tandemd and lets `rewrite` change the saved state before the
    /// reboot into B; returns the harness running on B.
    static func rebootIntoBAfterRewriting(_ rewrite: (DaemonHarness, String) throws -> Void) throws -> DaemonHarness {
        let harness = try DaemonHarness(kind: .loopDevice)
        try harness.start()
        _ = try BootLifecycleTests.install(harness, version: "2.0.0")
        harness.stop()
        try rewrite(harness, harness.stateDirectory + "/state.json")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        return harness
    }

    static func blessB(_ harness: DaemonHarness) throws {
        let bless = try harness.updatectl(["mark-good"])
        #expect(bless.status == 0, "\(bless.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) & (1 << 56) != 0, "B is marked successful")
    }

    @Test("state written by the next version: tandemd starts, reports the trial boot, and mark-good blesses it")
    func theNextVersionsState() throws {
        let harness = try Self.rebootIntoBAfterRewriting { harness, path in
            let bootID = try String(contentsOfFile: harness.bootIDFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let next = NextVersionState.upgrade(try harness.savedState(), bootID: bootID)
            try JSONSerialization.data(withJSONObject: next).write(to: URL(fileURLWithPath: path))
        }
        let status = try harness.updatectlJSON(["status", "--json"])
        let boot = try #require(status["boot"] as? [String: Any])
        #expect(boot["kind"] as? String == "trial" && boot["version"] as? String == "2.0.0", "\(boot)")
        let quarantined = try #require(status["quarantined"] as? [[String: Any]])
        #expect(quarantined.map { $0["reason"] as? String } == [NextVersionState.newFallbackReason])
        let human = try harness.updatectl(["status"])
        #expect(human.status == 0 && human.stdout.contains("TRIAL of version 2.0.0"), "\(human.stdout)\(human.stderr)")

        try Self.blessB(harness)
        #expect(try BootLifecycleTests.bootJSON(harness)["kind"] as? String == "blessed")
        // The newer version's own fields survive the older one's rewrites.
        let saved = try harness.savedState()
        #expect(saved["version"] as? Int == 1)
        #expect((saved["fleetPolicy"] as? [String: Any])?["ring"] as? String == "canary")
        #expect(saved["attestations"] is [Any])
        harness.stop()
    }

    @Test("state written by the previous version (reasons as prose): read, shown as before, rewritten as identifiers")
    func thePreviousVersionsState() throws {
        let harness = try Self.rebootIntoBAfterRewriting { harness, path in
            var state = try harness.savedState()
            state["quarantine"] = [["version": "1.9.0", "reason": "tries exhausted", "slot": "B", "bootID": "old", "time": 1]]
            try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: path))
        }
        let status = try harness.updatectlJSON(["status", "--json"])
        let quarantined = try #require(status["quarantined"] as? [[String: Any]])
        #expect(quarantined.map { $0["reason"] as? String } == ["tries exhausted"], "display text, as before")
        #expect(try BootLifecycleTests.bootJSON(harness)["kind"] as? String == "trial")
        try Self.blessB(harness)
        let saved = try #require(try harness.savedState()["quarantine"] as? [[String: Any]])
        #expect(saved.map { $0["reason"] as? String } == ["tries-exhausted"], "the identifier, which an older tandemd reads as unknown")
        #expect(saved.map { $0["slot"] as? String } == ["B"])
        harness.stop()
    }

    @Test("a truncated state.json is moved aside: tandemd starts, says so, and mark-good blesses the boot")
    func aTruncatedState() throws {
        var original = Data()
        let harness = try Self.rebootIntoBAfterRewriting { _, path in
            original = try Data(contentsOf: URL(fileURLWithPath: path))
            try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: path))
        }
        let status = try harness.updatectlJSON(["status", "--json"])
        let recovery = try #require(status["stateRecovery"] as? [String: Any], "\(status)")
        let movedTo = try #require(recovery["movedTo"] as? String)
        #expect(movedTo.hasPrefix(harness.stateDirectory + "/state.json.broken-"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: movedTo)) == original.prefix(original.count / 2), "the evidence is kept")
        #expect(harness.log.contains("was unreadable (not JSON state (truncated or corrupt)) and was moved aside to \(movedTo)"))
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("Saved state:  UNREADABLE"), "\(human.stdout)")

        try Self.blessB(harness)
        // The recovery stays visible during this boot, after a restart too.
        #expect(try harness.savedState()["stateRecovery"] is [String: Any])
        harness.stop()
        try harness.start()
        #expect(try harness.updatectlJSON(["status", "--json"])["stateRecovery"] is [String: Any])
        harness.stop()
    }
}
