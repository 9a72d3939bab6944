import Bootloaders
import Foundation
import Slots
import TestSupport
import Testing

/// The boot lifecycle through tandemd with `Backend=grub-env`: the same trial, blessing,
/// fallback and quarantine as over the GPT bits, with the state in a grubenv that
/// `grub-editenv` (the oracle) reads, the bootloader played by the grub-env backend's model of
/// the shipped fragment (the fragment itself boots in `make boot-test`), and the bundle's
/// kernel and initrd installed onto the ESP.
@Suite("boot lifecycle over grub-env", .serialized) struct GrubEnvLifecycleTests {
    struct Setup {
        let harness: DaemonHarness
        let esp: Scratch
        var grubenv: String { esp.file("tandem/grubenv") }
    }

    static func setup() throws -> Setup {
        try Integration.require(Shell.which("grub-editenv"), "grub-editenv (grub-common)")
        let esp = try Scratch()
        let harness = try DaemonHarness(settings: "[Slots]\nBackend=grub-env\nESP=\(esp.path)\n")
        let prepared = try harness.updatectl(["disk", "init-boot", "--backend", "grub-env", "--esp", esp.path, harness.disk.path])
        #expect(prepared.status == 0, "\(prepared.stderr)")
        try harness.start()
        return Setup(harness: harness, esp: esp)
    }

    static func environment(_ setup: Setup) throws -> Set<String> {
        Set(try Shell.run(["grub-editenv", setup.grubenv, "list"]).split(separator: "\n").map(String.init))
    }

    /// Installs a bundle of `version` with a kernel and an initrd through tandemd.
    static func install(_ setup: Setup, version: String) throws -> (kernel: String, initrd: String) {
        let fixture = setup.harness.fixture
        let image = try fixture.randomImage("image-\(version).raw", size: 2 << 20)
        let kernel = try fixture.randomImage("vmlinuz-\(version)", size: 300_001)
        let initrd = try fixture.randomImage("initrd-\(version)", size: 20_003)
        let bundle = try fixture.bundle("v\(version).tandem", image: image, version: version, artifacts: [.kernel: kernel, .initrd: initrd])
        let update = try setup.harness.updatectl(["update", bundle])
        #expect(update.status == 0, "\(update.stderr)")
        return (kernel, initrd)
    }

    /// What GRUB does at power-on with the fragment Tandem shipped: the slot it boots.
    static func powerOn(_ setup: Setup, versions: [SlotName: String]) throws -> SlotName {
        setup.harness.stop()
        let pair = try SlotPair(disk: try Disk.probe(setup.harness.disk.path))
        let chosen = try BootControl(pair: pair, backend: GrubEnvironmentBackend(pair: pair, esp: setup.esp.path))
            .nextBoot(commit: true).slot.name
        return try setup.harness.reboot(versions: versions, choosing: chosen)
    }

    @Test("install with boot files, trial boot of B, bless: grubenv and ESP agree with tandemd")
    func blessedTrial() throws {
        let setup = try Self.setup()
        let gptBefore = try setup.harness.disk.sgdiskAttributes(4)
        let files = try Self.install(setup, version: "2.0.0")
        #expect(try Self.environment(setup).isSuperset(of: ["TANDEM_B_PRIORITY=2", "TANDEM_B_TRIES=1", "TANDEM_B_GOOD=0",
                                                               "TANDEM_A_PRIORITY=1", "TANDEM_A_GOOD=1"]))
        let digest = { (path: String) in try Shell.run(["sh", "-c", "openssl dgst -sha256 -r < '\(path)'"]) }
        #expect(try digest(setup.esp.file("tandem/b/vmlinuz")) == digest(files.kernel))
        #expect(try digest(setup.esp.file("tandem/b/initrd.img")) == digest(files.initrd))
        #expect(try setup.harness.disk.sgdiskAttributes(4) == gptBefore, "grub-env leaves the GPT bits alone")

        #expect(try Self.powerOn(setup, versions: [.b: "2.0.0"]) == .b)
        #expect(try Self.environment(setup).isSuperset(of: ["TANDEM_B_TRIES=0", "TANDEM_B_GOOD=0"]), "the trial used its try")
        let boot = try BootLifecycleTests.bootJSON(setup.harness)
        #expect(boot["kind"] as? String == "trial" && boot["version"] as? String == "2.0.0", "\(boot)")

        let bless = try setup.harness.updatectl(["mark-good"])
        #expect(bless.status == 0, "\(bless.stderr)")
        #expect(try Self.environment(setup).isSuperset(of: ["TANDEM_B_GOOD=1", "TANDEM_B_PRIORITY=2", "TANDEM_A_GOOD=1"]))
        let blessed = try Self.environment(setup)
        #expect(try Self.powerOn(setup, versions: [.b: "2.0.0"]) == .b)
        #expect(try Self.environment(setup) == blessed, "a good slot boots without a try")
        #expect(try BootLifecycleTests.bootJSON(setup.harness)["kind"] as? String == "normal")
        setup.harness.stop()
    }

    /// Found by `make vm-test`: with the ESP in fstab as `nofail`, systemd starts tandemd before
    /// mounting it. tandemd then read no boot state at all, judged the trial boot of B a fallback
    /// ("marked bad", every slot having priority 0) and quarantined a good version.
    @Test("an ESP mounted after tandemd started: the trial boot is assessed once the grubenv reads, never as a fallback")
    func espMountedLate() throws {
        let setup = try Self.setup()
        _ = try Self.install(setup, version: "2.0.0")
        setup.harness.stop()
        let pair = try SlotPair(disk: try Disk.probe(setup.harness.disk.path))
        let chosen = try BootControl(pair: pair, backend: GrubEnvironmentBackend(pair: pair, esp: setup.esp.path))
            .nextBoot(commit: true).slot.name
        #expect(chosen == .b)
        let mounted = setup.esp.file("tandem"), unmounted = setup.esp.file("tandem-not-yet-mounted")
        try FileManager.default.moveItem(atPath: mounted, toPath: unmounted)
        _ = try setup.harness.reboot(versions: [.b: "2.0.0"], choosing: chosen)
        let early = try setup.harness.updatectlJSON(["status", "--json"])
        #expect(early["diskProblem"] != nil && early["boot"] == nil, "nothing is decided without the boot state: \(early)")

        try FileManager.default.moveItem(atPath: unmounted, toPath: mounted)
        // A look at the slots reads the boot state again (at most twice a second), and the boot
        // is assessed then.
        #expect(try DaemonHarness.eventually(timeout: 10) {
            (try setup.harness.updatectlJSON(["status", "--json"])["boot"] as? [String: Any])?["kind"] != nil
        })
        let boot = try BootLifecycleTests.bootJSON(setup.harness)
        #expect(boot["kind"] as? String == "trial" && boot["version"] as? String == "2.0.0", "\(boot)")
        let status = try setup.harness.updatectlJSON(["status", "--json"])
        #expect((status["quarantined"] as? [Any])?.isEmpty == true, "\(status)")
        #expect(try setup.harness.updatectl(["mark-good"]).status == 0)
        #expect(try Self.environment(setup).isSuperset(of: ["TANDEM_B_GOOD=1"]))
        setup.harness.stop()
    }

    @Test("B fails its trial: GRUB falls back to A, tandemd reports tries exhausted and quarantines the version")
    func fallbackAndQuarantine() throws {
        let setup = try Self.setup()
        _ = try Self.install(setup, version: "3.0.0")
        #expect(try Self.powerOn(setup, versions: [.b: "3.0.0"]) == .b)
        setup.harness.kill9()
        #expect(try Self.powerOn(setup, versions: [:]) == .a)
        #expect(try Self.environment(setup).isSuperset(of: ["TANDEM_B_TRIES=0", "TANDEM_B_GOOD=0", "TANDEM_A_GOOD=1"]))
        let status = try setup.harness.updatectlJSON(["status", "--json"])
        let boot = try #require(status["boot"] as? [String: Any])
        #expect(boot["kind"] as? String == "fallback" && boot["reason"] as? String == "tries exhausted", "\(boot)")
        #expect((status["quarantined"] as? [[String: Any]])?.map { $0["version"] as? String } == ["3.0.0"])
        setup.harness.stop()
    }
}
