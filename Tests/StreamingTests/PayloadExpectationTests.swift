import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// An update server's size and SHA-256 of the whole bundle file are checked on top of the
/// signature: the size before anything is written, the digest before the slot may boot. The
/// expected values come from stat and `openssl dgst -sha256 -binary | base64`, as Omaha sends them.
@Suite(.serialized)
struct PayloadExpectationTests {
    static let imageSize = 5 * (1 << 20) + 4321

    static func setup() throws -> InstallScenario {
        try InstallScenario(imageSize: imageSize)
    }

    @Test func aMatchingExpectationInstallsAndReportsTheWholeFileDigest() throws {
        let setup = try Self.setup()
        let (expectation, base64) = try InstallHarness.announced(setup.bundle)
        #expect(expectation.size == setup.imageOffset + UInt64(Self.imageSize))
        let result = try setup.harness.install(setup.bundle) { $0.expectedPayload = expectation }
        #expect(result.activated)
        #expect(result.payloadSHA256.map { Data($0).base64EncodedString() } == base64)
        try setup.harness.expectInstalled(setup.image)
    }

    @Test func aMatchingExpectationOverHTTPInstalls() throws {
        let setup = try Self.setup()
        let (expectation, base64) = try InstallHarness.announced(setup.bundle)
        let server = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(server.url) { $0.expectedPayload = expectation }
        #expect(result.payloadSHA256.map { Data($0).base64EncodedString() } == base64)
        try setup.harness.expectInstalled(setup.image)
    }

    @Test func withoutAnExpectationNoWholeFileDigestIsComputed() throws {
        let setup = try Self.setup()
        let result = try setup.harness.install(setup.bundle)
        #expect(result.payloadSHA256 == nil)
        try setup.harness.expectInstalled(setup.image)
    }

    @Test func aWrongSizeIsRefusedBeforeAnythingIsWritten() throws {
        let setup = try Self.setup()
        var (expectation, _) = try InstallHarness.announced(setup.bundle)
        let actual = expectation.size
        expectation.size += 1
        let flagsBefore = try setup.harness.disk.sgdiskAttributes(4)
        #expect { try setup.harness.install(setup.bundle) { $0.expectedPayload = expectation } } throws: { error in
            guard case let InstallError.payloadSizeMismatch(expected, reported) = error else { return false }
            let message = "\(error)"
            return expected == actual + 1 && reported == actual
                && message.contains("\(actual + 1) bytes") && message.contains("\(actual)")
                && message.contains("nothing was written") && message.contains("the update server or the file on it is wrong")
        }
        #expect(try setup.harness.disk.sgdiskAttributes(4) == flagsBefore, "not even invalidated")
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func aWrongDigestLeavesTheTargetUnbootable() throws {
        let setup = try Self.setup()
        var (expectation, base64) = try InstallHarness.announced(setup.bundle)
        expectation.sha256[7] ^= 0x01
        let wrong = Data(expectation.sha256).base64EncodedString()
        let reports = ReportLog()
        #expect {
            try setup.harness.installer { $0.expectedPayload = expectation }.install(setup.bundle) { reports.append($0) }
        } throws: { error in
            guard case InstallError.payloadHashMismatch(wrong, base64) = error else { return false }
            let message = "\(error)"
            return message.contains(wrong) && message.contains(base64) && message.contains("left unbootable")
        }
        #expect(!reports.all.contains { $0.phase == .verifying }, "the digest is compared before the read-back")
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        #expect(try setup.harness.disk.sgdiskAttributes(4) == 0, "priority 0, tries 0, successful 0")
        #expect(!setup.harness.checkpointExists, "a rejected file must not be resumed")
    }

    /// The resumed install re-hashes the prefix already in the slot, so the whole-file digest
    /// still covers every byte: preamble, the prefix from the slot, the rest from the server.
    @Test func aResumedInstallStillDigestsTheWholeFile() throws {
        let setup = try Self.setup()
        let (expectation, base64) = try InstallHarness.announced(setup.bundle)
        let dropping = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "drop", "--drop-after", "\(3 << 20)", "--from", "\(setup.imageOffset)"])
        #expect(throws: InstallError.self) {
            try setup.harness.install(dropping.url) {
                $0.http.retries = 0
                $0.expectedPayload = expectation
            }
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        let checkpoint = try #require(CheckpointStore(stateDirectory: setup.harness.stateDirectory).load())
        #expect(checkpoint.offset == 3 << 20)

        let good = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(good.url) { $0.expectedPayload = expectation }
        #expect(result.resumedFrom == 3 << 20)
        #expect(result.payloadSHA256.map { Data($0).base64EncodedString() } == base64)
        try setup.harness.expectInstalled(setup.image)
    }

    /// The preamble's stored bytes are what the whole-file digest starts with: for a new bundle
    /// (made, then signed) they must be exactly the bytes written to the file, as for a parsed one.
    @Test func preambleStoredBytesAreTheFileBytes() throws {
        let fixture = try BundleFixture()
        let image = try fixture.randomImage("image.raw", size: 10_000)
        let output = fixture.path("v2.tandem")
        let second = try SigningKey.generate(.ed25519)
        let made = try BundleWriter.create(image: image, version: "2.0.0", compatible: BundleFixture.compatible,
                                           keys: [fixture.key, second], output: output)
        let onDisk = Array(try Data(contentsOf: URL(fileURLWithPath: output)).prefix(Int(made.header.preambleLength)))
        #expect(made.storedBytes == onDisk)
        let parsed = try BundleFile.readPreamble(path: output)
        #expect(parsed.storedBytes == onDisk && parsed == made)
    }

    @Test func omahaDigestsAreDecodedFromBase64() throws {
        let digest = SHA256.hash(Array("tandem".utf8))
        let text = Data(digest).base64EncodedString()
        #expect(PayloadExpectation(size: 9, sha256Base64: text) == PayloadExpectation(size: 9, sha256: digest))
        #expect(PayloadExpectation(size: 9, sha256Base64: text)?.sha256Base64 == text)
        #expect(PayloadExpectation(size: 9, sha256Base64: "not base64!") == nil)
        #expect(PayloadExpectation(size: 9, sha256Base64: Data(digest.dropLast()).base64EncodedString()) == nil,
                "a digest must be 32 bytes")
    }
}
