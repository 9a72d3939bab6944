import Foundation
import Slots
import TestSupport
import Testing

/// updatectl against a running tandemd: its output, human and JSON, and its exit statuses.
@Suite("updatectl with tandemd") struct UpdatectlDaemonTests {
    @Test("status: the slot table and state; --json has the documented schema")
    func status() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let human = try harness.updatectl(["status"])
        #expect(human.status == 0, "\(human.stderr)")
        let lines = human.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("SLOT  LABEL  DEVICE") == true, "\(human.stdout)")
        #expect(lines.contains { $0.hasPrefix("A ") && $0.contains("USR-A") && $0.contains("yes") && $0.contains("1.5.0")
            && $0.hasSuffix("booted, next boot") }, "\(human.stdout)")
        #expect(lines.contains { $0.hasPrefix("B ") && $0.contains("USR-B") }, "\(human.stdout)")
        #expect(human.stdout.contains("State:        idle"))
        #expect(human.stdout.contains("Reboot:       not needed"))

        let json = try harness.updatectlJSON(["status", "--json"])
        #expect(json["schema"] as? String == "tandem.status/1")
        #expect(json["operation"] as? String == "idle")
        #expect(json["bootedSlot"] as? String == "A")
        #expect(json["nextBootSlot"] as? String == "A")
        #expect(json["rebootPending"] as? Bool == false)
        let slots = try #require(json["slots"] as? [[String: Any]])
        #expect(slots.count == 2)
        let a = try #require(slots.first)
        #expect(a["name"] as? String == "A" && a["label"] as? String == "USR-A" && a["partition"] as? Int == 3)
        #expect(a["priority"] as? Int == 2 && a["tries"] as? Int == 0 && a["successful"] as? Bool == true)
        #expect(a["booted"] as? Bool == true && a["nextBoot"] as? Bool == true && a["version"] as? String == "1.5.0")
        harness.stop()
    }

    @Test("exit statuses: not running 4, no update 2, failure 1, success 0")
    func exitStatuses() throws {
        let harness = try DaemonHarness()
        let absent = try harness.updatectl(["status"])
        #expect(absent.status == 4, "\(absent.stderr)")
        #expect(absent.stderr.contains("tandemd is not running") && absent.stderr.contains("systemctl start tandemd"), "\(absent.stderr)")

        try harness.start()
        let noSource = try harness.updatectl(["check"])
        #expect(noSource.status == 1 && noSource.stderr.contains("Source="), "\(noSource.stderr)")
        let missing = try harness.updatectl(["update", harness.fixture.path("missing.tandem")])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("missing.tandem"), "\(missing.stderr)")
        let reboot = try harness.updatectl(["reboot"])
        #expect(reboot.status == 2 && reboot.stderr.contains("--force"), "\(reboot.stderr)")
        let usage = try harness.updatectl(["mark-bad"])
        #expect(usage.status == 64)
        harness.stop()
    }

    @Test("update from the configured source: check says available, update installs, then no update (2)")
    func configuredSource() throws {
        let fixture = try BundleFixture()
        let image = try fixture.randomImage("image.raw", size: 3 << 20)
        let bundle = try fixture.bundle("v2.tandem", image: image, version: "2.0.0")
        let harness = try DaemonHarness(source: bundle)
        try FileManager.default.removeItem(atPath: harness.fixture.keysDirectory)
        try FileManager.default.copyItem(atPath: fixture.keysDirectory, toPath: harness.fixture.keysDirectory)
        try harness.start()
        let check = try harness.updatectl(["check"])
        #expect(check.status == 0 && check.stdout.contains("version 2.0.0"), "\(check.stdout)\(check.stderr)")
        let update = try harness.updatectl(["update"])
        #expect(update.status == 0, "\(update.stderr)")
        try harness.install.expectInstalled(image)
        let again = try harness.updatectl(["update"])
        #expect(again.status == 2 && again.stderr.contains("waits for a reboot"), "\(again.stderr)")
        let json = try harness.updatectlJSON(["status", "--json"])
        #expect(json["rebootPending"] as? Bool == true && json["newVersion"] as? String == "2.0.0")
        #expect((json["lastCheckTime"] as? Int ?? 0) > 0)
        harness.stop()
    }

    @Test("rollback, mark-bad, mark-good: refusals with reasons, changes checked with sgdisk")
    func marks() throws {
        let harness = try DaemonHarness()
        try harness.start()
        // B holds an older good image (the harness marks it good): rollback makes it next.
        let rollback = try harness.updatectl(["rollback"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(try BootControl(pair: try harness.install.pair()).read().table.nextBoot() == 4)
        #expect(try harness.disk.sgdiskAttributes(4) & (1 << 56) != 0, "B stays successful")
        let back = try harness.updatectl(["mark-active", "booted"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try BootControl(pair: try harness.install.pair()).read().table.nextBoot() == 3)

        let bad = try harness.updatectl(["mark-bad", "B"])
        #expect(bad.status == 0, "\(bad.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) == 0)
        let refused = try harness.updatectl(["rollback"])
        #expect(refused.status == 1 && refused.stderr.contains("nothing to roll back to"), "\(refused.stderr)")
        let selfBad = try harness.updatectl(["mark-bad", "booted"])
        #expect(selfBad.status == 1 && selfBad.stderr.contains("would leave nothing to boot"), "\(selfBad.stderr)")
        let goodOther = try harness.updatectl(["mark-good", "B"])
        #expect(goodOther.status == 1 && goodOther.stderr.contains("only the booted slot"), "\(goodOther.stderr)")

        let image = try harness.fixture.randomImage("image.raw", size: 2 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        #expect(try harness.updatectl(["update", bundle]).status == 0)
        let pending = try harness.updatectl(["rollback"])
        #expect(pending.status == 1 && pending.stderr.contains("has not booted yet"), "\(pending.stderr)")
        #expect(try harness.disk.sgdiskVerifies().clean)
        harness.stop()
    }

    @Test("reboot goes through logind only when an update is pending, or with --force; --dry-run says what it would do")
    func reboot() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let logind = try FakeLogind(address: harness.bus.address)
        defer { logind.stop() }
        #expect(try harness.updatectl(["reboot"]).status == 2)
        #expect(logind.rebootCalls.isEmpty)
        let dry = try harness.updatectl(["reboot", "--force", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.hasPrefix("would reboot (forced"), "\(dry.stdout)\(dry.stderr)")
        #expect(logind.rebootCalls.isEmpty)

        let image = try harness.fixture.randomImage("image.raw", size: 2 << 20)
        #expect(try harness.updatectl(["update", try harness.fixture.bundle("v2.tandem", image: image)]).status == 0)
        let plan = try harness.updatectl(["reboot", "--dry-run"])
        #expect(plan.stdout.contains("would reboot into version 2.0.0 in slot B"), "\(plan.stdout)")
        let reboot = try harness.updatectl(["reboot"])
        #expect(reboot.status == 0, "\(reboot.stderr)")
        #expect(logind.rebootCalls == [[.bool(false)]])
        harness.stop()
    }

    @Test("watch follows an install live")
    func watch() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let output = harness.fixture.path("watch.txt")
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: BuiltExecutable.path("updatectl"))
        watch.arguments = ["watch"]
        watch.environment = ProcessInfo.processInfo.environment.merging(harness.bus.environment) { $1 }
        FileManager.default.createFile(atPath: output, contents: nil)
        watch.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        try watch.run()
        defer { kill(watch.processIdentifier, SIGKILL); watch.waitUntilExit() }
        usleep(300_000)
        let image = try harness.fixture.randomImage("image.raw", size: 8 << 20)
        #expect(try harness.updatectl(["update", try harness.fixture.bundle("v2.tandem", image: image)]).status == 0)
        #expect(DaemonHarness.eventually(timeout: 5) {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.contains("booted A (1.5.0); idle") && text.contains("success: installed version 2.0.0")
                && text.contains("waits for a reboot")
        }, "\((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        harness.stop()
    }
}
