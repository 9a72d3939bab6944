import Foundation
import Slots
import TestSupport
import Testing

/// tandemd and `[Slots] Backend=`: the backend is shown (status, D-Bus), and a backend that
/// cannot run is the disk's problem, never a reason for tandemd to stop.
@Suite("tandemd and its boot backend", .serialized) struct BootBackendDaemonTests {
    @Test("the default backend is gptprio, shown in status and on the bus")
    func theBackendIsShown() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let property = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                           "BootBackend"])
        #expect(property.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "s \"gptprio\"", "\(property.stdout)")
        #expect(try harness.updatectlJSON(["status", "--json"])["bootBackend"] as? String == "gptprio")
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("Boot backend: GPT priority/tries/successful bits (gptprio)"), "\(human.stdout)")
        harness.stop()
    }

    /// grub-env on a disk-image file whose ESP is not mounted and not given: nothing can be
    /// read, so installs and marks are refused with the reason, and tandemd keeps running.
    @Test("a backend that cannot find its ESP is the disk's problem, and tandemd keeps running")
    func aBackendWithoutItsESP() throws {
        let harness = try DaemonHarness(settings: "[Slots]\nBackend=grub-env\n")
        let snapshot = try harness.disk.snapshot()
        try harness.start()
        let reason = "mount it or pass --esp DIR (ESP= in [Slots])"
        #expect(harness.log.contains(reason), "\(harness.log)")
        let json = try harness.updatectlJSON(["status", "--json"])
        #expect(json["bootBackend"] as? String == "grub-env")
        #expect((json["diskProblem"] as? String)?.contains(reason) == true, "\(json)")
        let refused = try harness.updatectl(["mark-bad", "B"])
        #expect(refused.status == 1 && refused.stderr.contains(reason), "\(refused.stderr)")
        #expect(harness.daemon?.isRunning == true, "tandemd must survive its backend")
        #expect(try harness.disk.identical(to: snapshot), "nothing was written")
        harness.stop()
    }
}
