import Foundation
import Testing
import TestSupport
import Verification

/// Boot artifacts in the signed manifest and after the image (docs/bundle-format.md, "Boot artifacts").
@Suite struct BundleArtifactTests {
    static let digest = [UInt8](repeating: 0xCD, count: 32)
    static let hex = String(repeating: "cd", count: 32)

    static func manifest(_ artifacts: [BundleArtifact]) -> Manifest {
        var manifest = sampleManifest()
        manifest.artifacts = artifacts
        return manifest
    }

    @Test func artifactsAreSignedFieldsOfAFormat2Manifest() throws {
        let manifest = BundleArtifactTests.manifest([
            BundleArtifact(kind: .initrd, size: 20, sha256: BundleArtifactTests.digest),
            BundleArtifact(kind: .kernel, size: 10, sha256: BundleArtifactTests.digest),
        ])
        let text = String(decoding: manifest.canonicalBytes(), as: UTF8.self)
        #expect(text.contains("format=2\n"))
        #expect(text.contains("initrd-sha256=\(BundleArtifactTests.hex)\ninitrd-size=20\n"))
        #expect(text.contains("kernel-sha256=\(BundleArtifactTests.hex)\nkernel-size=10\n"))
        let parsed = try Manifest.parse(manifest.canonicalBytes())
        #expect(parsed == manifest)
        #expect(parsed.artifacts.map(\.kind) == [.kernel, .initrd], "bundle order, whatever the key order")
        #expect(!String(decoding: sampleManifest().canonicalBytes(), as: UTF8.self).contains("format=2"),
                "a bundle without artifacts stays format 1, which every Tandem reads")
    }

    static func text(_ extra: String, format: String = "2") -> [UInt8] {
        let base = String(decoding: sampleManifest().canonicalBytes(), as: UTF8.self)
            .replacingOccurrences(of: "format=1", with: "format=\(format)")
        let lines = (base.split(separator: "\n").map(String.init) + extra.split(separator: "\n").map(String.init))
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test(arguments: [
        ("kernel-sha256=\(hex)\nkernel-size=536870913", "1 to 536870912 bytes"),
        ("kernel-sha256=\(hex)\nkernel-size=0", "1 to 536870912 bytes"),
        ("kernel-sha256=\(hex)\nkernel-size=99999999999999999999999", "decimal number"),
        ("kernel-size=10", "without kernel-sha256"),
        ("kernel-sha256=\(hex)", "without kernel-size"),
        ("initrd-sha256=\(hex)\ninitrd-size=10", "not both and not an initrd alone"),
        ("kernel-sha256=\(hex)\nkernel-size=10\nuki-sha256=\(hex)\nuki-size=10", "not both"),
    ])
    func badArtifactFieldsAreRefused(_ extra: String, _ message: String) {
        #expect {
            try Manifest.parse(BundleArtifactTests.text(extra))
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func artifactsInAFormat1ManifestAreRefused() {
        #expect {
            try Manifest.parse(BundleArtifactTests.text("uki-sha256=\(BundleArtifactTests.hex)\nuki-size=10", format: "1"))
        } throws: { error in
            "\(error)".contains("need format 2")
        }
    }

    /// The unsigned header's artifacts length must equal the signed manifest's sum.
    @Test func aHeaderArtifactsLengthOtherThanTheManifestsIsRefused() throws {
        let manifest = BundleArtifactTests.manifest([BundleArtifact(kind: .uki, size: 100, sha256: BundleArtifactTests.digest)])
        var bytes = BundlePreamble(manifest: manifest, signatures: []).serialized()
        #expect(try BundlePreamble.parse(bytes).header.artifactsLength == 100)
        bytes[40] = 101
        #expect(throws: BundleError.artifactsLengthMismatch(header: 101, manifest: 100)) { try BundlePreamble.parse(bytes) }
    }

    /// Near-maximal image and artifact lengths cannot wrap the bundle's end past Int64.
    @Test func lengthsThatOverflowAreRefused() throws {
        var bytes = BundleHeader(manifestLength: 100, signaturesLength: 100, imageLength: UInt64(Int64.max) - 4096 - 10,
                                 artifactsLength: 100).serialized()
        #expect(throws: BundleError.imageTooLong(UInt64(Int64.max) - 4096 - 10)) { try BundleHeader.parse(bytes) }
        bytes = BundleHeader(manifestLength: 100, signaturesLength: 100, imageLength: 1, artifactsLength: 100).serialized()
        #expect(try BundleHeader.parse(bytes).bundleLength == 4096 + 1 + 100)
    }

    static func build(_ scratch: Scratch) throws -> (bundle: String, kernel: String, initrd: String, image: String) {
        let image = try scratch.randomFile("usr.raw", size: 1_048_576 + 7)
        let kernel = try scratch.randomFile("vmlinuz", size: 300_001)
        let initrd = try scratch.randomFile("initrd.img", size: 2_000_003)
        let bundle = scratch.file("update.tandem")
        try BundleWriter.create(image: image, version: "2", compatible: "generic", created: "2026-11-21T19:00:00Z",
                                artifacts: [.initrd: initrd, .kernel: kernel], chunkSize: nil, keys: [try BundleFileTests.key.get()],
                                output: bundle)
        return (bundle, kernel, initrd, image)
    }

    @Test func createStoresTheArtifactsAfterTheImageAndVerifyChecksThem() throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        let (bundle, kernel, initrd, image) = try BundleArtifactTests.build(scratch)
        let preamble = try BundleFile.readPreamble(path: bundle)
        #expect(preamble.header.formatVersion == 2)
        #expect(preamble.manifest.artifacts.map(\.sha256) == [try OpenSSLTool.sha256(of: kernel), try OpenSSLTool.sha256(of: initrd)])
        let kernelOffset: UInt64 = 4096 + 1_048_576 + 7
        let initrdOffset: UInt64 = kernelOffset + 300_001
        #expect(try BundleFileTests.fileSize(bundle) == initrdOffset + 2_000_003)
        let ranges = preamble.artifactRanges
        #expect(ranges.map(\.offset) == [kernelOffset, initrdOffset])
        // The bytes at each range are the file's, by openssl.
        for ((artifact, offset), path) in zip(ranges, [kernel, initrd]) {
            let extracted = scratch.file("extracted-\(artifact.kind)")
            try Shell.run(["sh", "-c", "tail -c +\(offset + 1) '\(bundle)' | head -c \(artifact.size) > '\(extracted)'"])
            #expect(try OpenSSLTool.sha256(of: extracted) == (try OpenSSLTool.sha256(of: path)))
        }
        try BundleFile.verifyImage(path: bundle, preamble: preamble)
        try BundleFile.verifyArtifacts(path: bundle, preamble: preamble)
        #expect(try OpenSSLTool.sha256(of: image) == preamble.manifest.imageSHA256)

        // Re-signing keeps the artifacts.
        let resigned = try BundleWriter.addSignature(bundle: bundle, key: try SigningKey.generate(.ed25519))
        try BundleFile.verifyArtifacts(path: bundle, preamble: resigned)
    }

    @Test func aTamperedArtifactIsRefused() throws {
        let scratch = try Scratch()
        let (bundle, _, _, _) = try BundleArtifactTests.build(scratch)
        let preamble = try BundleFile.readPreamble(path: bundle)
        let (initrd, offset) = try #require(preamble.artifactRanges.last)
        let handle = try #require(FileHandle(forUpdatingAtPath: bundle))
        try handle.seek(toOffset: offset + 1000)
        try handle.write(contentsOf: Data([0x5A, 0xA5]))
        try handle.close()
        try BundleFile.verifyImage(path: bundle, preamble: preamble)
        #expect {
            try BundleFile.verifyArtifacts(path: bundle, preamble: preamble)
        } throws: { error in
            "\(error)".contains("the \(initrd.kind) in \(bundle) has SHA-256")
        }
    }

    @Test func anArtifactOverTheLimitIsRefusedWhenBuilding() throws {
        let scratch = try Scratch()
        let image = try scratch.randomFile("usr.raw", size: 10)
        let huge = scratch.file("huge.efi")
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        try Shell.run(["truncate", "-s", String(BundleArtifact.maximumSize + 1), huge])
        #expect {
            try BundleWriter.create(image: image, version: "1", compatible: "generic", artifacts: [.uki: huge],
                                    keys: [try BundleFileTests.key.get()], output: scratch.file("b"))
        } throws: { error in
            "\(error)".contains("at most 536870912 bytes")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("b")))
    }
}
