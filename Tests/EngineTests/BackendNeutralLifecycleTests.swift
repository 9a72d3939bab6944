import Engine
import Foundation
import Logging
import Slots
import Testing
import TestSupport

/// The lifecycle (install, trial, bless, fallback, quarantine) over a boot backend that is not
/// the GPT: a file the test's bootloader reads and counts down. The engine's logic is the same
/// whatever the backend, so the outcomes are gptprio's; and the GPT bits, which this backend
/// does not use, are never written.
@Suite(.serialized)
struct BackendNeutralLifecycleTests {
    /// One simulated host: the disk, the backend's file, and tandemd's state across boots.
    final class Host {
        let harness: InstallHarness
        let backend: FileBootBackend
        let bootIDFile: String
        var booted = SlotName.a
        var version = "1.5.0"
        private(set) var updater: Updater

        init() throws {
            harness = try InstallHarness()
            backend = try FileBootBackend.create(at: harness.fixture.path("bootstate"))
            bootIDFile = harness.fixture.path("boot_id")
            updater = try Self.start(harness, backend, bootIDFile, booted: .a, version: version)
        }

        static func start(_ harness: InstallHarness, _ backend: FileBootBackend, _ bootIDFile: String,
                          booted: SlotName, version: String,
                          clock: any HostClock = SystemClock(),
                          adjust: (inout Configuration) -> Void = { _ in }) throws -> Updater {
            try UUID().uuidString.lowercased().write(toFile: bootIDFile, atomically: true, encoding: .utf8)
            var configuration = Configuration()
            configuration.disk = harness.disk.path
            configuration.bootedSlot = booted.rawValue
            configuration.keyDirectories = [harness.fixture.keysDirectory]
            configuration.stateDirectory = harness.stateDirectory
            configuration.compatible = BundleFixture.compatible
            configuration.version = version
            configuration.bootIDFile = bootIDFile
            configuration.osRelease = harness.fixture.path("os-release")
            configuration.boot.kind = backend.kind
            adjust(&configuration)
            let updater = try Updater(configuration: configuration, logger: Logger(label: "test"),
                                      bootBackend: backend.factory, clock: clock)
            return updater
        }

        var pair: SlotPair { get throws { try harness.pair() } }

        /// Installs `bundle` and waits for the result.
        func install(_ bundle: String) throws -> ResultRecord? {
            let completed = Mailbox<ResultRecord>()
            updater.observe { event in
                if case let .completed(result) = event { completed.set(result) }
            }
            _ = try updater.install(InstallRequest(source: bundle))
            #expect(DaemonHarness.eventually(timeout: 60) { completed.value != nil })
            return completed.value
        }

        /// Power-cycles: the backend's bootloader picks the slot, tandemd starts on it.
        func reboot(versions: [SlotName: String]) throws -> BootReport? {
            updater.shutdown()
            booted = try #require(try backend.powerOn(try pair), "a slot must be bootable")
            version = versions[booted] ?? "1.5.0"
            updater = try Self.start(harness, backend, bootIDFile, booted: booted, version: version)
            return updater.assessBoot()
        }
    }

    @Test("install -> trial boot -> bless, over a file backend; the GPT bits are never written")
    func installTrialBless() throws {
        let host = try Host()
        let pair = try host.pair
        let gptBefore = try [3, 4].map { try host.harness.disk.sgdiskAttributes($0) }
        let image = try host.harness.fixture.randomImage("image.raw", size: 2 << 20)
        let result = try host.install(try host.harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0"))
        #expect(result?.code == .success, "\(String(describing: result))")
        #expect(try host.harness.slotDigest(partition: 4, count: 2 << 20) == (try host.harness.fileDigest(image)),
                "B holds the image (openssl dgst)")
        #expect(try host.backend.flags(.b, pair) == BootAttributes(priority: 2, tries: 1, successful: false),
                "B on trial ahead of A, in the backend's file")
        #expect(host.updater.status().rebootPending && host.updater.status().nextBootSlot == .b)
        #expect(host.updater.status().bootBackend == .custom)

        let trial = try #require(try host.reboot(versions: [.b: "2.0.0"]))
        #expect(host.booted == .b)
        #expect(trial.kind == .trial && trial.version == "2.0.0", "\(trial)")
        #expect(trial.message.contains("the bootloader counted this boot as a try of slot B"), "\(trial.message)")

        _ = try host.updater.mark(.good, slot: "booted")
        #expect(host.updater.status().boot?.kind == .blessed)
        #expect(try host.backend.flags(.b, pair) == BootAttributes(priority: 2, tries: 0, successful: true))
        #expect(try host.backend.flags(.a, pair).successful, "A stays the good fallback")
        #expect(try host.reboot(versions: [.b: "2.0.0"])?.kind == .normal)
        #expect(host.booted == .b)
        #expect(try [3, 4].map { try host.harness.disk.sgdiskAttributes($0) } == gptBefore,
                "the GPT bits (sgdisk) are untouched: every flip went through the backend")
        host.updater.shutdown()
    }

    @Test("install -> trial boot that never blesses -> the bootloader falls back to A; the version is quarantined")
    func fallbackAndQuarantine() throws {
        let host = try Host()
        let image = try host.harness.fixture.randomImage("image.raw", size: 2 << 20)
        #expect(try host.install(try host.harness.fixture.bundle("v3.tandem", image: image, version: "3.0.0"))?.code == .success)
        #expect(try host.reboot(versions: [.b: "3.0.0"])?.kind == .trial)
        // The trial boot crashes before it is blessed; the bootloader has no try left for B.
        let fallback = try #require(try host.reboot(versions: [.b: "3.0.0"]))
        #expect(host.booted == .a)
        #expect(fallback.kind == .fallback && fallback.reason == .triesExhausted, "\(fallback)")
        #expect(fallback.message.contains("the bootloader recorded booting slot A"), "\(fallback.message)")
        #expect(host.updater.status().quarantined.map(\.version) == ["3.0.0"])
        host.updater.shutdown()
    }

    /// The bootloader's record is evidence beside the booted slot, not a replacement for it.
    @Test("a bootloader record naming the other slot is reported, and the boot is still assessed from the running slot")
    func aContradictingRecordIsReported() throws {
        let host = try Host()
        host.updater.shutdown()
        try "B 1".write(toFile: host.backend.path + ".last-boot", atomically: true, encoding: .utf8)
        let updater = try Host.start(host.harness, host.backend, host.bootIDFile, booted: .a, version: "1.5.0")
        let report = try #require(updater.assessBoot())
        #expect(report.kind == .normal && report.bootedSlot == .a)
        #expect(report.message.contains("the bootloader recorded booting slot B, not A: check its configuration"), "\(report.message)")
        updater.shutdown()
    }

    @Test("a backend that cannot be read is the disk's problem in status, and tandemd keeps running")
    func backendFailureIsTheDiskProblem() throws {
        let host = try Host()
        try FileManager.default.removeItem(atPath: host.backend.path)
        host.updater.refreshSlots(maximumAge: 0)
        let problem = try #require(host.updater.status().diskProblem)
        #expect(problem.contains("boot backend custom") && problem.contains(host.backend.path), "\(problem)")
        #expect(throws: UpdaterError.self) { try host.updater.mark(.bad, slot: "B") }
        _ = try FileBootBackend.create(at: host.backend.path)
        host.updater.refreshSlots(maximumAge: 0)
        #expect(host.updater.status().diskProblem == nil)
        host.updater.shutdown()
    }
}
