import Foundation
import Testing
import TestSupport
import Verification

@Suite struct BundleFileTests {
    static let key = Result { try SigningKey.generate(.ed25519) }

    /// An image that is not a whole number of 1 MiB chunks, so the last chunk is short.
    static let imageSize = 2 * 1_048_576 + 12_345

    static func build(in scratch: Scratch, imageSize: Int = imageSize, keys: [SigningKey]? = nil,
                      chunkSize: UInt64? = ChunkLayout.defaultChunkSize) throws -> (image: String, bundle: String) {
        let image = try scratch.randomFile("usr.raw", size: imageSize)
        let bundle = scratch.file("update.tandem")
        try BundleWriter.create(image: image, version: "3975.2.1", compatible: "flatcar-amd64", minimumVersion: "3900.0.0",
                                created: "2026-11-21T19:00:00Z", chunkSize: chunkSize, keys: keys ?? [try key.get()], output: bundle)
        return (image, bundle)
    }

    static func fileSize(_ path: String) throws -> UInt64 {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64)
    }

    /// Format 1's layout (ChunkTableTests: format 3's).
    @Test func createWritesTheDocumentedLayout() throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        let (image, bundle) = try BundleFileTests.build(in: scratch, chunkSize: nil)
        let preamble = try BundleFile.readPreamble(path: bundle)
        #expect(preamble.manifest.imageSHA256 == (try OpenSSLTool.sha256(of: image)), "the manifest's digest is openssl's")
        #expect(preamble.manifest.imageSize == UInt64(BundleFileTests.imageSize))
        #expect(preamble.manifest.version == "3975.2.1" && preamble.manifest.minimumVersion == "3900.0.0")
        #expect(preamble.manifest.created == "2026-11-21T19:00:00Z" && preamble.manifest.compatible == "flatcar-amd64")
        #expect(preamble.header.imageOffset == 4096 && preamble.header.imageLength == UInt64(BundleFileTests.imageSize))
        #expect(try BundleFileTests.fileSize(bundle) == 4096 + UInt64(BundleFileTests.imageSize))
        #expect(preamble.signatures.map(\.keyID) == [try BundleFileTests.key.get().keyID])

        // The image is copied byte for byte after the preamble.
        try Shell.run(["sh", "-c", "tail -c +4097 '\(bundle)' > '\(scratch.file("extracted"))'"])
        #expect(try OpenSSLTool.sha256(of: scratch.file("extracted")) == (try OpenSSLTool.sha256(of: image)))
        try BundleFile.verifyImage(path: bundle, preamble: preamble)
        #expect(scratch.contents == ["extracted", "update.tandem", "usr.raw"], "no temporary files are left")
    }

    @Test func createStampsTheCurrentTimeByDefault() throws {
        let scratch = try Scratch()
        let image = try scratch.randomFile("usr.raw", size: 10)
        let preamble = try BundleWriter.create(image: image, version: "1", compatible: "generic",
                                               keys: [try BundleFileTests.key.get()], output: scratch.file("b"))
        let utc = try #require(TimeZone(identifier: "UTC"))
        let year = try #require(Calendar(identifier: .gregorian).dateComponents(in: utc, from: Date()).year)
        #expect(preamble.manifest.created.hasPrefix("\(year)-") && preamble.manifest.created.hasSuffix("Z"))
        #expect(try BundleFile.readPreamble(path: scratch.file("b")) == preamble)
    }

    /// An empty image is refused when the bundle is built, and a manifest that claims one
    /// (signed by an older tool) is refused when it is read for an install.
    @Test func anEmptyImageIsRefused() throws {
        let scratch = try Scratch()
        #expect {
            try BundleFileTests.build(in: scratch, imageSize: 0)
        } throws: { error in
            "\(error)".contains("image-size is 0: the image is empty")
        }
        let empty = Manifest(version: "1.0.0", compatible: "x", imageSize: 0, imageSHA256: SHA256.hash([]),
                             created: "2026-11-21T19:00:00Z", minimumVersion: nil)
        #expect(throws: BundleError.malformedManifest("image-size is 0: the image is empty, and an empty slot cannot boot; "
            + "build the bundle from the real image")) {
            try Manifest.parse(empty.canonicalBytes())
        }
    }

    @Test func aTruncatedBundleIsReportedAsSuch() throws {
        let scratch = try Scratch()
        let (_, bundle) = try BundleFileTests.build(in: scratch)
        let full = try BundleFileTests.fileSize(bundle)
        try Shell.run(["truncate", "-s", "-1", bundle])
        let preamble = try BundleFile.readPreamble(path: bundle)
        #expect(throws: BundleFileError.truncated(path: bundle, expected: full, actual: full - 1)) {
            try BundleFile.verifyImage(path: bundle, preamble: preamble)
        }
        try Shell.run(["truncate", "-s", "100", bundle])
        #expect(throws: BundleFileError.invalid(path: bundle, .truncated(needed: 4096, available: 100))) {
            try BundleFile.readPreamble(path: bundle)
        }
    }

    @Test func extraBytesAfterTheImageAreReported() throws {
        let scratch = try Scratch()
        let (_, bundle) = try BundleFileTests.build(in: scratch)
        try Shell.run(["sh", "-c", "printf abc >> '\(bundle)'"])
        let preamble = try BundleFile.readPreamble(path: bundle)
        #expect(throws: BundleFileError.trailingBytes(path: bundle, count: 3)) {
            try BundleFile.checkLength(path: bundle, preamble: preamble)
        }
        #expect {
            try BundleFile.verifyImage(path: bundle, preamble: preamble)
        } throws: { error in
            "\(error)".contains("has 3 extra bytes after the image")
        }
    }

    @Test func aFlippedImageByteFailsTheHash() throws {
        let scratch = try Scratch()
        let (_, bundle) = try BundleFileTests.build(in: scratch)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: bundle))
        try handle.seek(toOffset: 4096 + 1_048_576 + 7)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 4096 + 1_048_576 + 7)
        try handle.write(contentsOf: Data([byte ^ 0x80]))
        try handle.close()
        let preamble = try BundleFile.readPreamble(path: bundle)
        #expect {
            try BundleFile.verifyImage(path: bundle, preamble: preamble)
        } throws: { error in
            guard case let .imageHashMismatch(path, expected, actual) = error as? BundleFileError else { return false }
            return path == bundle && expected == hexString(preamble.manifest.imageSHA256) && actual != expected
        }
    }

    @Test func aRawImageIsNotABundle() throws {
        let scratch = try Scratch()
        let image = try scratch.randomFile("usr.raw", size: 8192)
        #expect {
            try BundleFile.readPreamble(path: image)
        } throws: { error in
            guard case .invalid(image, .badMagic) = error as? BundleFileError else { return false }
            return "\(error)".contains("not a Tandem bundle")
        }
        #expect(throws: BundleFileError.ioFailed(path: scratch.file("absent"), operation: "opening", errno: ENOENT)) {
            try BundleFile.readPreamble(path: scratch.file("absent"))
        }
    }

    @Test func invalidFieldsAreRefusedBeforeAnythingIsWritten() throws {
        let scratch = try Scratch()
        let image = try scratch.randomFile("usr.raw", size: 100)
        let key = try BundleFileTests.key.get()
        #expect {
            try BundleWriter.create(image: image, version: "1.0 beta", compatible: "generic", keys: [key], output: scratch.file("b"))
        } throws: { error in
            guard case .invalidManifest(.malformedManifest) = error as? BundleFileError else { return false }
            return "\(error)".contains("'version'")
        }
        #expect(throws: BundleFileError.self) {
            try BundleWriter.create(image: image, version: "1", compatible: "generic", created: "yesterday", keys: [key],
                                    output: scratch.file("b"))
        }
        #expect(throws: BundleFileError.alreadySigned(path: scratch.file("b"), keyID: hexString(key.keyID))) {
            try BundleWriter.create(image: image, version: "1", compatible: "generic", keys: [key, key], output: scratch.file("b"))
        }
        #expect(scratch.contents == ["usr.raw"])
    }

    /// Key rotation: hosts trusting the old key and hosts trusting the new one both accept the
    /// bundle once it carries both signatures.
    @Test func addSignatureRollsOverToANewKey() throws {
        let scratch = try Scratch()
        let old = try BundleFileTests.key.get()
        let new = try SigningKey.generate(.rsa(bits: 2048))
        let (_, bundle) = try BundleFileTests.build(in: scratch, keys: [old])
        let before = try BundleFile.readPreamble(path: bundle)
        try scratch.write(new.publicKeyPEM(), to: "new.d/new.pem")
        try scratch.write(old.publicKeyPEM(), to: "old.d/old.pem")
        let newHosts = try TrustStore(directories: [scratch.file("new.d")])
        #expect(throws: VerificationError.self) { try newHosts.verify(before) }

        let after = try BundleWriter.addSignature(bundle: bundle, key: new)
        #expect(after.signatures.map(\.keyID) == [old.keyID, new.keyID])
        #expect(after.signatures[1].algorithm == .rsaPSSSHA256)
        #expect(after.manifestBytes == before.manifestBytes && after.header.imageLength == before.header.imageLength)
        #expect(try BundleFile.readPreamble(path: bundle) == after)
        try BundleFile.verifyImage(path: bundle, preamble: after)
        #expect(try newHosts.verify(after).signerKeyID == new.keyID)
        #expect(try TrustStore(directories: [scratch.file("old.d")]).verify(after).signerKeyID == old.keyID)

        // Once the old key is revoked, the new signature alone carries the bundle.
        try scratch.write(Array("\(hexString(old.keyID))\n".utf8), to: "both.d/revoked")
        try scratch.write(old.publicKeyPEM(), to: "both.d/old.pem")
        try scratch.write(new.publicKeyPEM(), to: "both.d/new.pem")
        #expect(try TrustStore(directories: [scratch.file("both.d")]).verify(after).signerKeyID == new.keyID)

        #expect(throws: BundleFileError.alreadySigned(path: bundle, keyID: hexString(new.keyID))) {
            try BundleWriter.addSignature(bundle: bundle, key: new)
        }
        #expect(scratch.contents == ["both.d", "new.d", "old.d", "update.tandem", "usr.raw"])
    }

    @Test func addSignatureRefusesABundleWhoseImageDoesNotMatch() throws {
        let scratch = try Scratch()
        let (_, bundle) = try BundleFileTests.build(in: scratch)
        let imageOffset = try BundleFile.readPreamble(path: bundle).header.imageOffset
        try Shell.run(["sh", "-c", "printf x | dd of='\(bundle)' bs=1 seek=\(imageOffset + 1000) conv=notrunc status=none"])
        let snapshot = try scratch.read("update.tandem")
        #expect {
            try BundleWriter.addSignature(bundle: bundle, key: SigningKey.generate(.ed25519))
        } throws: { error in
            if case .imageHashMismatch = error as? BundleFileError { return true }
            return false
        }
        #expect(try scratch.read("update.tandem") == snapshot, "the bundle is left as it was")
    }
}
