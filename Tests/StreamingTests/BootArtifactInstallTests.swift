import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// A bundle's kernel and initrd reach the target slot's place on the ESP, proven against the
/// signed manifest before they get their names, and before the slot may boot; the booted
/// slot's files are never written; what the backend cannot place is refused before any write.
@Suite(.serialized)
struct BootArtifactInstallTests {
    struct Setup {
        let scenario: InstallScenario
        let esp: Scratch
        let backend: FileBootBackend
        let kernel: String
        let initrd: String
        let bundle: String
        var harness: InstallHarness { scenario.harness }
    }

    static func setup(esp espPlacement: Bool = true) throws -> Setup {
        let scenario = try InstallScenario(imageSize: 2 * (1 << 20) + 333)
        let esp = try Scratch()
        let backend = try FileBootBackend.create(at: scenario.harness.fixture.path("boot-state"), kind: .grubEnv,
                                                 esp: espPlacement ? esp.path : nil)
        let kernel = try scenario.harness.fixture.randomImage("vmlinuz", size: 1_048_579)
        let initrd = try scenario.harness.fixture.randomImage("initrd.img", size: 70_001)
        let bundle = try scenario.harness.fixture.bundle("with-kernel.tandem", image: scenario.image,
                                                         artifacts: [.kernel: kernel, .initrd: initrd])
        return Setup(scenario: scenario, esp: esp, backend: backend, kernel: kernel, initrd: initrd, bundle: bundle)
    }

    /// The booted slot's kernel, as an image builder left it.
    static func placeBootedKernel(_ setup: Setup) throws -> String {
        try setup.esp.write(Array("slot A's kernel".utf8), to: "tandem/a/vmlinuz")
        return try setup.harness.fileDigest(setup.esp.file("tandem/a/vmlinuz"))
    }

    @Test func theArtifactsAreInstalledBeforeTheTrial() throws {
        let setup = try Self.setup()
        let bootedKernel = try Self.placeBootedKernel(setup)
        let result = try setup.harness.install(setup.bundle) { $0.bootBackend = setup.backend.factory }
        #expect(result.activated)
        // openssl, not Tandem, compares the files.
        #expect(try setup.harness.fileDigest(setup.esp.file("tandem/b/vmlinuz")) == setup.harness.fileDigest(setup.kernel))
        #expect(try setup.harness.fileDigest(setup.esp.file("tandem/b/initrd.img")) == setup.harness.fileDigest(setup.initrd))
        #expect(try setup.harness.fileDigest(setup.esp.file("tandem/a/vmlinuz")) == bootedKernel, "the booted slot's kernel")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.esp.file("tandem/b")).sorted() == ["initrd.img", "vmlinuz"],
                "no temporary file is left")
        let pair = try setup.harness.pair()
        let flags = try setup.backend.flags(.b, pair)
        #expect(flags.tries == 1 && !flags.successful && flags.priority > 0, "on trial: \(flags)")
        try Self.expectImageInSlotB(setup)
    }

    /// The image's bytes in slot B; the flags are the file backend's, not the GPT's.
    static func expectImageInSlotB(_ setup: Setup) throws {
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: setup.scenario.image)[.size] as? Int ?? 0)
        #expect(try setup.harness.slotDigest(partition: 4, count: size) == setup.harness.fileDigest(setup.scenario.image))
    }

    @Test func aTamperedArtifactIsNotPutInPlaceAndTheSlotCannotBoot() throws {
        let setup = try Self.setup()
        let oldKernel = try setup.esp.write(Array("slot B's old kernel".utf8), to: "tandem/b/vmlinuz")
        let oldDigest = try setup.harness.fileDigest(oldKernel)
        // The kernel's last byte, after the signature was made over its hash.
        let preamble = try BundleFile.readPreamble(path: setup.bundle)
        let kernelRange = try #require(preamble.artifactRanges.first { $0.artifact.kind == .kernel })
        try BadBundleTests.flipByte(in: setup.bundle, at: kernelRange.offset + kernelRange.artifact.size - 1)
        #expect { try setup.harness.install(setup.bundle) { $0.bootBackend = setup.backend.factory } } throws: { error in
            guard case InstallError.bootArtifactHashMismatch(kind: "kernel", _, _) = error else { return false }
            return true
        }
        #expect(try setup.harness.fileDigest(oldKernel) == oldDigest, "the old file keeps its name and bytes")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.esp.file("tandem/b")) == ["vmlinuz"])
        #expect(!(try setup.backend.flags(.b, try setup.harness.pair())).isBootable, "the target stays invalidated")
    }

    @Test func artifactsTheBackendCannotPlaceAreRefusedBeforeAnyWrite() throws {
        let setup = try Self.setup(esp: false)
        let stateBefore = try String(contentsOfFile: setup.backend.path, encoding: .utf8)
        #expect { try setup.harness.install(setup.bundle) { $0.bootBackend = setup.backend.factory } } throws: { error in
            guard case InstallError.bootArtifactsRefused(kinds: ["kernel", "initrd"], reason: .noPlacement(backend: .grubEnv)) = error
            else { return false }
            return "\(error)".contains("nothing was written") && "\(error)".contains("ESP=")
        }
        #expect(try setup.harness.disk.identical(to: setup.scenario.snapshot))
        #expect(try String(contentsOfFile: setup.backend.path, encoding: .utf8) == stateBefore, "the target was not even invalidated")
        // gptprio without an ESP, today's default, refuses the same way.
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case InstallError.bootArtifactsRefused(_, reason: .noPlacement(backend: .gptprio)) = error else { return false }
            return true
        }
        #expect(try setup.harness.disk.identical(to: setup.scenario.snapshot))
    }

    @Test func aBundleWithoutArtifactsLeavesTheESPAlone() throws {
        let setup = try Self.setup()
        let bootedKernel = try Self.placeBootedKernel(setup)
        try setup.harness.install(setup.scenario.bundle) { $0.bootBackend = setup.backend.factory }
        try Self.expectImageInSlotB(setup)
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.esp.file("tandem")) == ["a"])
        #expect(try setup.harness.fileDigest(setup.esp.file("tandem/a/vmlinuz")) == bootedKernel)
    }

    /// An update server's digest is of the whole file: with artifacts, the whole file is the
    /// preamble, the image and the artifacts, and all of them are hashed for it.
    @Test func theServersWholeFileDigestCoversTheArtifacts() throws {
        let setup = try Self.setup()
        let announced = try InstallHarness.announced(setup.bundle)
        let result = try setup.harness.install(setup.bundle) {
            $0.bootBackend = setup.backend.factory
            $0.expectedPayload = announced.expectation
        }
        #expect(result.payloadSHA256 == announced.expectation.sha256)
    }

    /// A UKI for a bootloader that loads a kernel and an initrd only (grub-env's fragment).
    @Test func aKindTheBootloaderCannotLoadIsRefusedBeforeAnyWrite() throws {
        let setup = try Self.setup()
        let uki = try setup.harness.fixture.randomImage("uki.efi", size: 50_001)
        let bundle = try setup.harness.fixture.bundle("uki.tandem", image: setup.scenario.image, artifacts: [.uki: uki])
        let stateBefore = try String(contentsOfFile: setup.backend.path, encoding: .utf8)
        #expect { try setup.harness.install(bundle) { $0.bootBackend = setup.backend.factory } } throws: { error in
            guard case InstallError.bootArtifactsRefused(kinds: ["uki"], reason: .unsupportedKind(backend: .grubEnv, kind: .uki)) = error
            else { return false }
            return "\(error)".contains("cannot load a uki")
        }
        #expect(try setup.harness.disk.identical(to: setup.scenario.snapshot))
        #expect(try String(contentsOfFile: setup.backend.path, encoding: .utf8) == stateBefore)
        #expect(!FileManager.default.fileExists(atPath: setup.esp.file("tandem")))
    }
}
