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
        // Recorded as docs/cli-json.md says, and as over Omaha: an offer skipped, not "no update".
        let check = try #require((try harness.updatectlJSON(["status", "--json"])["updates"] as? [String: Any])?["lastCheck"]
            as? [String: Any])
        #expect(check["result"] as? String == "deferred" && check["version"] as? String == "3.0.0", "\(check)")
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

    @Test("a trial slot whose bytes changed since they were verified: the fallback says verification failed")
    func verificationFailed() throws {
        let harness = try DaemonHarness()
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        harness.kill9()
        try harness.disk.corrupt(at: try harness.install.offset(ofPartition: 4) + (1 << 20), count: 1)
        #expect(try harness.reboot() == .a)
        let boot = try Self.bootJSON(harness)
        #expect(boot["kind"] as? String == "fallback" && boot["reason"] as? String == "verification failed", "\(boot)")
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

    @Test("a blessing refused as busy is not recorded; a restart keeps the boot's verdict")
    func refusedBlessing() throws {
        let harness = try DaemonHarness()
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        let image = try harness.fixture.randomImage("slow.raw", size: 12 << 20)
        let server = try BundleServer(file: try harness.fixture.bundle("v3.tandem", image: image, version: "3.0.0"),
                                      arguments: ["--rate", "\(2 << 20)"])
        #expect(try harness.updatectl(["update", "--force", "--no-wait", server.url]).status == 0)
        let busy = try harness.updatectl(["mark-good"])
        #expect(busy.status == 5, "\(busy.stderr)")
        #expect(try Self.bootJSON(harness)["kind"] as? String == "trial", "a refused mark is no blessing")
        #expect(try harness.updatectl(["cancel"]).status == 0)
        #expect(try DaemonHarness.eventually { try harness.updatectlJSON(["status", "--json"])["operation"] as? String == "idle" })
        harness.stop()
        try harness.start()
        #expect(try Self.bootJSON(harness)["kind"] as? String == "trial", "a restart of tandemd is not a reboot")
        harness.stop()
    }

    @Test("dropping a pending update on purpose is no failed boot; a boot-menu choice leaves it armed")
    func droppedAndNotChosen() throws {
        let harness = try DaemonHarness()
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.updatectl(["mark-bad", "other"]).status == 0)
        #expect(try harness.reboot() == .a)
        #expect(try Self.bootJSON(harness)["kind"] as? String == "normal")
        #expect((try harness.updatectlJSON(["status", "--json"])["quarantined"] as? [Any])?.isEmpty == true)

        _ = try Self.install(harness, version: "2.0.1")
        #expect(try harness.reboot(choosing: .a) == .a)
        let boot = try Self.bootJSON(harness)
        #expect(boot["kind"] as? String == "normal" && (boot["message"] as? String)?.contains("still waiting") == true, "\(boot)")
        #expect(try harness.reboot(versions: [.b: "2.0.1"]) == .b)
        #expect(try Self.bootJSON(harness)["kind"] as? String == "trial", "the update still gets its trial")
        harness.stop()
    }

    @Test("an update made to wait and armed again keeps its trial")
    func waitAndRearm() throws {
        let harness = try DaemonHarness()
        try harness.start()
        _ = try Self.install(harness, version: "2.0.0")
        #expect(try harness.updatectl(["mark-active", "booted"]).status == 0)
        #expect(try harness.updatectlJSON(["status", "--json"])["rebootPending"] as? Bool == false)
        #expect(try harness.updatectl(["mark-active", "other"]).status == 0)
        #expect(try harness.updatectlJSON(["status", "--json"])["rebootPending"] as? Bool == true)
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        #expect(try Self.bootJSON(harness)["kind"] as? String == "trial")
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

/// Power cuts (kill -9, then the bootloader's choice) at each step of an install and its trial:
/// the next boot always lands on a slot holding a verified image.
@Suite("power cuts across the lifecycle") struct PowerCutTests {
    enum Cut: String, CaseIterable, CustomStringConvertible {
        case beforeStreaming = "before streaming"
        case midStream = "mid-stream"
        case lateStream = "late in the stream"
        case afterTrialFlip = "after the trial flip"
        case duringBlessing = "during blessing"
        var description: String { rawValue }
    }

    @Test("the next boot lands on a verified image", arguments: Cut.allCases)
    func cut(at cut: Cut) throws {
        let harness = try DaemonHarness(kind: .loopDevice)
        let image = try harness.fixture.randomImage("image.raw", size: 12 << 20)
        // Cuts inside the stream pause the transfer just past their byte count, so that the kill
        // lands there and not after the install has raced to its end on a loaded machine.
        let pauseAt: Int? = switch cut {
        case .midStream: 6 << 20
        case .lateStream: 23 << 19
        default: nil
        }
        let server = try BundleServer(file: try harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0"),
                                      arguments: ["--rate", "\(4 << 20)"] + (pauseAt.map { ["--pause-at", "\($0)"] } ?? []))
        let slotA = try harness.install.slotDigest(partition: 3, count: UInt64(TestDisk.slotMiB) << 20)
        try harness.start()
        func progress() throws -> (operation: String, done: UInt64) {
            let json = try harness.updatectlJSON(["status", "--json"])
            let done = (json["progress"] as? [String: Any])?["bytesDone"] as? Int ?? 0
            return (json["operation"] as? String ?? "", UInt64(done))
        }
        #expect(try harness.updatectl(["update", "--no-wait", server.url]).status == 0)
        switch cut {
        case .beforeStreaming:
            #expect(try DaemonHarness.eventually { try progress().operation != "checking" })
        case .midStream:
            #expect(try DaemonHarness.eventually { try progress().done >= 5 << 20 })
        case .lateStream:
            #expect(try DaemonHarness.eventually { try progress().done >= 11 << 20 })
        case .afterTrialFlip, .duringBlessing:
            #expect(try DaemonHarness.eventually(timeout: 60) {
                try harness.updatectlJSON(["status", "--json"])["rebootPending"] as? Bool == true
            })
        }
        if cut == .duringBlessing {
            #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
            let bless = Process()
            bless.executableURL = URL(fileURLWithPath: BuiltExecutable.path("updatectl"))
            bless.arguments = ["mark-good"]
            bless.environment = ProcessInfo.processInfo.environment.merging(harness.bus.environment) { $1 }
            try bless.run()
            usleep(20_000)
            harness.kill9()
            bless.waitUntilExit()
        } else {
            harness.kill9()
        }
        let booted = try harness.reboot(versions: [.b: "2.0.0"])
        if booted == .a {
            #expect(try harness.install.slotDigest(partition: 3, count: UInt64(TestDisk.slotMiB) << 20) == slotA,
                    "A boots and holds exactly what it held")
        } else {
            #expect(try harness.install.slotDigest(partition: 4, count: 12 << 20) == (try harness.install.fileDigest(image)),
                    "B boots only with the verified image")
        }
        switch cut {
        case .beforeStreaming, .midStream, .lateStream:
            #expect(booted == .a, "a slot that was being written never boots")
        case .afterTrialFlip:
            #expect(booted == .b, "the trial flip had happened: B gets its try")
        case .duringBlessing:
            // The blessing either landed (B stays) or not (B used its only try: A).
            #expect(try harness.disk.sgdiskVerifies().clean)
        }
        harness.stop()
    }
}

@Suite("rollback across boots") struct RollbackLifecycleTests {
    @Test("rollback both ways between two good slots, refused when the other slot is half-written")
    func bothWays() throws {
        let harness = try DaemonHarness()
        try harness.start()
        _ = try BootLifecycleTests.install(harness, version: "2.0.0")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        #expect(try harness.updatectl(["mark-good"]).status == 0)
        // B is blessed; A still holds the old good system: roll back to it, then forward again.
        let back = try harness.updatectl(["rollback"])
        #expect(back.status == 0 && back.stdout.contains("slot A boots next"), "\(back.stdout)\(back.stderr)")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .a)
        #expect(try BootLifecycleTests.bootJSON(harness)["kind"] as? String == "normal")
        let forward = try harness.updatectl(["rollback"])
        #expect(forward.status == 0 && forward.stdout.contains("version 2.0.0 in slot B boots next"), "\(forward.stdout)\(forward.stderr)")
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)

        // An install into A interrupted half-way leaves A invalidated: nothing to roll back to.
        let image = try harness.fixture.randomImage("big.raw", size: 12 << 20)
        let server = try BundleServer(file: try harness.fixture.bundle("v3.tandem", image: image, version: "3.0.0"),
                                      arguments: ["--rate", "\(3 << 20)"])
        #expect(try harness.updatectl(["update", "--no-wait", server.url]).status == 0)
        #expect(try DaemonHarness.eventually {
            ((try harness.updatectlJSON(["status", "--json"])["progress"] as? [String: Any])?["bytesDone"] as? Int ?? 0) > 2 << 20
        })
        #expect(try harness.updatectl(["cancel"]).status == 0)
        #expect(try DaemonHarness.eventually { try harness.updatectlJSON(["status", "--json"])["operation"] as? String == "idle" })
        let refused = try harness.updatectl(["rollback"])
        #expect(refused.status == 1 && refused.stderr.contains("nothing to roll back to"), "\(refused.stderr)")
        harness.stop()
    }

    @Test("no bootable slot: a loud error at start-up, and the fix works")
    func noBootableSlot() throws {
        let harness = try DaemonHarness()
        for slot in ["A", "B"] {
            #expect(try Shell.capture([BuiltExecutable.path("updatectl"), "disk", "set", harness.disk.path, slot,
                                       "--priority", "0", "--tries", "0", "--successful", "0"]).status == 0)
        }
        try harness.start()
        let boot = try BootLifecycleTests.bootJSON(harness)
        #expect(boot["kind"] as? String == "no-bootable-slot", "\(boot)")
        #expect(harness.log.contains("NO SLOT IS BOOTABLE"))
        #expect(try harness.updatectl(["mark-good"]).status == 0)
        #expect(try BootControl(pair: try harness.install.pair()).read().table.nextBoot() == 3)
        harness.stop()
    }
}
