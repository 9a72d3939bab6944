import Foundation
import Slots
import TestSupport
import Testing

/// The boot lifecycle with the bootloader played by the harness (GRUB's gptprio.next model,
/// applied to the disk) and tandemd restarted on whatever slot it picks.
@Suite("boot lifecycle") struct BootLifecycleTests {
    static func bootJSON(_ harness: DaemonHarness) throws -> [String: Any] {
        try #require(try harness.updatectlJSON(["status", "--json"])["boot"] as? [String: Any])
    }

    static func install(_ harness: DaemonHarness, version: String, size: Int = 2 << 20, arguments: [String] = []) throws -> String {
        let image = try harness.fixture.randomImage("image-\(version).raw", size: size)
        let bundle = try harness.fixture.bundle("v\(version).tandem", image: image, version: version)
        let update = try harness.updatectl(["update"] + arguments + [bundle])
        #expect(update.status == 0, "\(update.stderr)")
        return bundle
    }

    @Test("install B, boot B, bless: B is good, A the fallback, status clean")
    func blessedTrial() throws {
        let harness = try DaemonHarness(kind: .loopDevice)
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        var boot = try Self.bootJSON(harness)
        #expect(boot["kind"] as? String == "trial" && boot["version"] as? String == "2.0.0", "\(boot)")
        #expect(try harness.updatectlJSON(["status", "--json"])["rebootPending"] as? Bool == false, "the reboot happened")
        // B used its one try getting here: unproven, ineligible until blessed.
        #expect(try harness.disk.sgdiskAttributes(4) == BootAttributes(priority: 2, tries: 0, successful: false).rawValue)

        let bless = try harness.updatectl(["mark-good"])
        #expect(bless.status == 0, "\(bless.stderr)")
        boot = try Self.bootJSON(harness)
        #expect(boot["kind"] as? String == "blessed", "\(boot)")
        #expect(try harness.disk.sgdiskAttributes(4) == BootAttributes(priority: 2, tries: 0, successful: true).rawValue)
        #expect(try harness.disk.sgdiskAttributes(3) == BootAttributes(priority: 1, tries: 0, successful: true).rawValue,
                "A stays the good fallback")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        #expect(try Self.bootJSON(harness)["kind"] as? String == "normal")
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("This boot:    normal") && !human.stdout.contains("Quarantined"), "\(human.stdout)")
        harness.stop()
    }

    @Test("install B, B fails to boot: the bootloader falls back to A, tandemd reports it and quarantines the version")
    func fallbackAndQuarantine() throws {
        let fixtureSource = try BundleFixture()
        let image = try fixtureSource.randomImage("image.raw", size: 2 << 20)
        let bundle = try fixtureSource.bundle("v3.tandem", image: image, version: "3.0.0")
        let harness = try DaemonHarness(kind: .loopDevice, source: bundle)
        try FileManager.default.removeItem(atPath: harness.fixture.keysDirectory)
        try FileManager.default.copyItem(atPath: fixtureSource.keysDirectory, toPath: harness.fixture.keysDirectory)
        try harness.start()
        #expect(try harness.updatectl(["update"]).status == 0)
        #expect(try harness.reboot(versions: [.b: "3.0.0"]) == .b)
        // The trial boot crashes before boot-complete.target: no blessing. Power-cycle.
        harness.kill9()
        #expect(try harness.reboot() == .a, "gptprio.next skips B: no tries left, never successful")

        let status = try harness.updatectlJSON(["status", "--json"])
        let boot = try #require(status["boot"] as? [String: Any])
        #expect(boot["kind"] as? String == "fallback")
        #expect(boot["reason"] as? String == "tries exhausted")
        #expect(boot["version"] as? String == "3.0.0")
        #expect((boot["installBootID"] as? String)?.isEmpty == false && boot["installBootID"] as? String != boot["bootID"] as? String)
        let last = try #require(status["lastResult"] as? [String: Any])
        #expect(last["result"] as? String == "fell-back" && last["code"] as? Int == 5, "\(last)")
        let quarantined = try #require(status["quarantined"] as? [[String: Any]])
        #expect(quarantined.map { $0["version"] as? String } == ["3.0.0"])
        #expect(harness.log.contains("did not boot (tries exhausted)"))
        let property = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "Quarantined"])
        #expect(property.stdout.hasPrefix("a(ssssx) 1 \"3.0.0\" \"tries exhausted\" \"B\""), "\(property.stdout)")
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("FALLBACK: version 3.0.0 did not boot (tries exhausted)"), "\(human.stdout)")
        #expect(human.stdout.contains("Quarantined:  3.0.0 (tries exhausted in slot B"), "\(human.stdout)")

        // The next automatic check skips it; an explicit one is refused; forced, it installs.
        let again = try harness.updatectl(["update"])
        #expect(again.status == 2 && again.stderr.contains("quarantined"), "\(again.stderr)")
        let explicit = try harness.updatectl(["update", bundle])
        #expect(explicit.status == 1 && explicit.stderr.contains("quarantined"), "\(explicit.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) == BootAttributes(priority: 2, tries: 0, successful: false).rawValue,
                "a refused install writes nothing")
        let forced = try harness.updatectl(["update", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) == BootAttributes(priority: 2, tries: 1, successful: false).rawValue)

        let release = try harness.updatectl(["unquarantine", "3.0.0"])
        #expect(release.status == 0, "\(release.stderr)")
        #expect((try harness.updatectlJSON(["status", "--json"])["quarantined"] as? [Any])?.isEmpty == true)
        harness.stop()
    }

    @Test("the trial guard: no install while the booted slot is unproven, unless forced")
    func trialGuard() throws {
        let harness = try DaemonHarness(kind: .loopDevice)
        try harness.start()
        let bundle = try Self.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        let snapshot = try harness.disk.snapshot()
        let refused = try harness.updatectl(["update", bundle])
        #expect(refused.status == 1 && refused.stderr.contains("has not been proven good yet"), "\(refused.stderr)")
        #expect(try harness.disk.identical(to: snapshot), "the fallback slot A was not touched")
        let forced = try harness.updatectl(["update", "--force", bundle])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stderr.contains("warning: --force"))
        #expect(harness.log.contains("trial guard overridden"))
        harness.stop()
    }

    @Test("a health check marks the trial bad: the fallback says so")
    func markedBad() throws {
        let harness = try DaemonHarness()
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        // B is running on trial with no tries left; A is good: a failed health check may mark B bad.
        let bad = try harness.updatectl(["mark-bad", "booted"])
        #expect(bad.status == 0, "\(bad.stderr)")
        #expect(try harness.reboot() == .a)
        let boot = try Self.bootJSON(harness)
        #expect(boot["kind"] as? String == "fallback" && boot["reason"] as? String == "marked bad", "\(boot)")
        harness.stop()
    }

    @Test("a grace period delays blessing until the system has been up that long")
    func blessGrace() throws {
        let uptime = try String(contentsOfFile: "/proc/uptime", encoding: .utf8).split(separator: " ").first.flatMap { Double($0) } ?? 0
        let grace = Int(uptime) + 10
        let harness = try DaemonHarness(settings: "[Boot]\nBlessGraceSec=\(grace)\n")
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        let started = Date()
        let bless = try harness.updatectl(["mark-good"])
        #expect(bless.status == 0, "\(bless.stderr)")
        #expect(Date().timeIntervalSince(started) >= 2, "the blessing waited for the grace period")
        #expect(try Self.bootJSON(harness)["kind"] as? String == "blessed")
        harness.stop()
    }
}
