import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// Every kind of bad input gets a specific error, leaves the active slot alone and never
/// leaves the target bootable. Refusals that come before writing leave the disk unchanged.
@Suite(.serialized)
struct BadBundleTests {
    static let imageSize = 3 * (1 << 20) + 777

    static func setup() throws -> InstallScenario {
        try InstallScenario(imageSize: imageSize)
    }

    static func header(of bundle: String) throws -> BundleHeader {
        try BundleFile.readPreamble(path: bundle).header
    }

    static func flipByte(in path: String, at offset: UInt64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let byte = try handle.read(upToCount: 1) ?? Data([0])
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data([byte[0] ^ 0x5A]))
    }

    // MARK: Refused before writing: the disk is unchanged

    @Test func aTruncatedBundleIsRefusedBeforeWriting() throws {
        let setup = try Self.setup()
        try Shell.run(["truncate", "-s", "-1000", setup.bundle])
        #expect { try setup.harness.install(setup.bundle) } throws: { "\($0)".contains("truncated") }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func trailingBytesAreRefusedBeforeWriting() throws {
        let setup = try Self.setup()
        try Shell.run(["sh", "-c", "printf extra >> '\(setup.bundle)'"])
        #expect { try setup.harness.install(setup.bundle) } throws: { "\($0)".contains("extra") }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    /// Root may install any path, and the result is readable by anyone: a file that is not a
    /// bundle (here shaped like /etc/shadow) is refused without quoting a byte of it.
    @Test func aFileThatIsNotABundleIsNotQuoted() throws {
        let setup = try Self.setup()
        let secret = setup.harness.fixture.path("shadow")
        try ("root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n" + String(repeating: "x", count: 8192))
            .write(toFile: secret, atomically: true, encoding: .utf8)
        #expect { try setup.harness.install(secret) } throws: { error in
            let text = "\(error)"
            return text.contains("not a Tandem bundle") && !text.contains("726f6f74") && !text.contains("root")
                && !text.contains("0x")
        }
    }

    @Test func badMagicAndVersionAreNamed() throws {
        let setup = try Self.setup()
        let copy = setup.harness.fixture.path("copy.tandem")
        try Shell.run(["cp", setup.bundle, copy])
        try Self.flipByte(in: copy, at: 0)
        #expect { try setup.harness.install(copy) } throws: { error in
            guard case InstallError.bundle = error else { return false }
            return "\(error)".contains("not a Tandem bundle")
        }
        try Self.flipByte(in: setup.bundle, at: 8)
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case InstallError.bundle = error else { return false }
            return "\(error)".lowercased().contains("version")
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func aTamperedManifestOrSignatureIsRefused() throws {
        let setup = try Self.setup()
        let copy = setup.harness.fixture.path("copy.tandem")
        try Shell.run(["cp", setup.bundle, copy])
        // The manifest starts right after the 64-byte header; its first line is compatible=...
        try Self.flipByte(in: copy, at: 64 + 12)
        #expect(throws: InstallError.self) { try setup.harness.install(copy) }
        let header = try Self.header(of: setup.bundle)
        // The last byte of the signature block is the last byte of the signature itself.
        try Self.flipByte(in: setup.bundle, at: 64 + UInt64(header.manifestLength + header.signaturesLength) - 1)
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case InstallError.verification(let reason) = error else { return false }
            guard case .badSignature = reason else { return false }
            return true
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func unknownAndRevokedKeysAreRefused() throws {
        let setup = try Self.setup()
        let stranger = try SigningKey.generate(.ed25519)
        let foreign = try setup.harness.fixture.bundle("foreign.tandem", image: setup.image, keys: [stranger])
        #expect { try setup.harness.install(foreign) } throws: { error in
            guard case InstallError.verification(.unknownSigners) = error else { return false }
            return "\(error)".contains(hexString(stranger.keyID).prefix(16))
        }
        try (hexString(setup.harness.fixture.key.keyID) + "\n").write(
            toFile: setup.harness.fixture.keysDirectory + "/revoked", atomically: true, encoding: .utf8)
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case InstallError.verification(.revokedKey) = error else { return false }
            return true
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func anImageLargerThanTheSlotIsRefused() throws {
        let setup = try Self.setup()
        let big = try setup.harness.fixture.randomImage("big.raw", size: Int(InstallHarness.slotBytes) + 4096)
        let bundle = try setup.harness.fixture.bundle("big.tandem", image: big)
        #expect { try setup.harness.install(bundle) } throws: { error in
            guard case let InstallError.imageTooLarge(size, "B", slotSize) = error else { return false }
            return size == InstallHarness.slotBytes + 4096 && slotSize == InstallHarness.slotBytes
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func compatibilityAndMinimumVersionAreEnforced() throws {
        let setup = try Self.setup()
        let other = try setup.harness.fixture.bundle("other.tandem", image: setup.image, compatible: "another-board")
        #expect { try setup.harness.install(other) } throws: { error in
            guard case InstallError.incompatible("another-board", BundleFixture.compatible) = error else { return false }
            return true
        }
        let needsNewer = try setup.harness.fixture.bundle("newer.tandem", image: setup.image, minimumVersion: "1.10.0")
        #expect { try setup.harness.install(needsNewer) } throws: { error in
            guard case InstallError.hostTooOld("1.10.0", "1.5.0") = error else { return false }
            return true
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
        try setup.harness.install(needsNewer) { $0.host.version = "1.10.0" }
        try setup.harness.expectInstalled(setup.image)
    }

    // MARK: Caught while or after streaming: A untouched, B unbootable

    @Test(arguments: [("middle", 0.5), ("last chunk", 1.0)])
    func aCorruptImageByteIsCaughtByTheHash(_ where: String, _ fraction: Double) throws {
        // Format 1, whose one digest covers the whole image (ChunkedInstallTests: format 3).
        let setup = try InstallScenario(imageSize: Self.imageSize, chunkSize: nil)
        let header = try Self.header(of: setup.bundle)
        let imageOffset = UInt64(Double(header.imageLength - 1) * fraction)
        try Self.flipByte(in: setup.bundle, at: header.imageOffset + imageOffset)
        #expect { try setup.harness.install(setup.bundle) } throws: { error in
            guard case InstallError.hashMismatch = error else { return false }
            return "\(error)".contains("left unbootable")
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        #expect(!FileManager.default.fileExists(atPath: setup.harness.stateDirectory + "/checkpoint.json"),
                "a corrupt image must not be resumed")
    }
}
