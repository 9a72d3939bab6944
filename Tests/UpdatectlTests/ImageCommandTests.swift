import Foundation
import Testing
import TestSupport

@Suite struct ImageCommandTests {
    /// A temporary directory with a random raw image in it, removed when released.
    final class Workspace {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-image-\(UUID().uuidString.prefix(8))").path

        init() throws {
            try FileManager.default.createDirectory(atPath: path + "/keys.d", withIntermediateDirectories: true)
            try Shell.run(["sh", "-c", "head -c 1500000 /dev/urandom > '\(path)/usr.raw'"])
        }

        deinit {
            try? FileManager.default.removeItem(atPath: path)
        }

        subscript(name: String) -> String { path + "/" + name }

        func keygen(_ name: String, _ extra: String...) throws {
            let output = try Shell.capture([Updatectl.path, "image", "keygen", "--private", self["\(name).pem"],
                                            "--public", self["keys.d/\(name).pem"]] + extra)
            guard output.status == 0 else { throw Shell.Failure(command: ["keygen"], output: output) }
        }
    }

    @Test func keygenCreateVerifyAndInspect() throws {
        let work = try Workspace()
        try work.keygen("build")
        let mode = try FileManager.default.attributesOfItem(atPath: work["build.pem"])[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let created = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "3975.2.1",
                                        "--image", work["usr.raw"], "--compatible", "flatcar-amd64",
                                        "--min-version", "3900.0.0", "--created", "2026-11-21T19:00:00Z", "--out", work["b.tandem"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("wrote \(work["b.tandem"]): version 3975.2.1 for flatcar-amd64, image 1500000 bytes"))

        let verified = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["keys.d"])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("(\(work["keys.d/build.pem"]))") && verified.stdout.hasSuffix("OK\n"))

        let report = try Updatectl.json("image", "inspect", work["b.tandem"], "--json")
        #expect(report["schema"] as? String == "tandem.bundle/1" && report["path"] as? String == work["b.tandem"])
        let header = try #require(report["header"] as? [String: Any])
        // Format 3: 2 chunk digests and 367 block keys (3000 bytes) at 4096, the image at 8192.
        #expect(header["imageOffset"] as? Int == 8192 && header["imageLength"] as? Int == 1_500_000)
        #expect(header["formatVersion"] as? Int == 3)
        #expect(header["tableOffset"] as? Int == 4096 && header["tableLength"] as? Int == 2 * 32 + 367 * 8)
        let manifest = try #require(report["manifest"] as? [String: Any])
        #expect(manifest["version"] as? String == "3975.2.1" && manifest["minVersion"] as? String == "3900.0.0")
        #expect(manifest["compatible"] as? String == "flatcar-amd64" && manifest["created"] as? String == "2026-11-21T19:00:00Z")
        let digest = try Shell.run(["sha256sum", work["usr.raw"]]).prefix(64)
        #expect(manifest["imageSHA256"] as? String == String(digest))
        let chunking = try #require(manifest["chunking"] as? [String: Any])
        #expect(chunking["chunkSize"] as? Int == 1 << 20 && chunking["chunks"] as? Int == 2)
        #expect(chunking["blockSize"] as? Int == 4096 && chunking["blocks"] as? Int == 367)
        let signatures = try #require(report["signatures"] as? [[String: Any]])
        #expect(signatures.count == 1 && signatures[0]["algorithm"] as? String == "ed25519" && signatures[0]["length"] as? Int == 64)

        let text = try Updatectl.run("image", "inspect", work["b.tandem"])
        #expect(text.status == 0 && text.stdout.contains("  image-size=1500000\n"))
        #expect(text.stdout.contains("chunking: 2 chunks of 1048576 bytes, each verified before it is written"))

        // For hosts whose Tandem predates format 3.
        let legacy = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "3975.2.1",
                                       "--image", work["usr.raw"], "--format", "1", "--out", work["legacy.tandem"])
        #expect(legacy.status == 0, "\(legacy.stderr)")
        let legacyHeader = try #require(try Updatectl.json("image", "inspect", work["legacy.tandem"], "--json")["header"] as? [String: Any])
        #expect(legacyHeader["formatVersion"] as? Int == 1 && legacyHeader["imageOffset"] as? Int == 4096)
        #expect(legacyHeader["tableOffset"] == nil)
        #expect(try Updatectl.run("image", "verify", work["legacy.tandem"], "--keys", work["keys.d"]).status == 0)
        let badChunk = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "1", "--image", work["usr.raw"],
                                         "--chunk-size", "100000", "--out", work["bad.tandem"])
        #expect(badChunk.status != 0 && badChunk.stderr.contains("--chunk-size must be a power of two"))
    }

    @Test func signAddsAKeyForRotation() throws {
        let work = try Workspace()
        try work.keygen("old")
        try work.keygen("new", "--type", "rsa", "--bits", "2048")
        #expect(try Updatectl.run("image", "create", "--key", work["old.pem"], "--version", "2", "--image", work["usr.raw"],
                                  "--out", work["b.tandem"]).status == 0)
        try FileManager.default.createDirectory(atPath: work["new.d"], withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: work["keys.d/new.pem"], toPath: work["new.d/new.pem"])
        let before = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["new.d"])
        #expect(before.status == 1 && before.stderr.contains("signed only by unknown keys"))

        let signed = try Updatectl.run("image", "sign", work["b.tandem"], "--key", work["new.pem"])
        #expect(signed.status == 0 && signed.stdout.contains("(rsa-pss-sha256); it now carries 2 signatures"), "\(signed.stderr)")
        #expect(try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["new.d"]).status == 0)
        let again = try Updatectl.run("image", "sign", work["b.tandem"], "--key", work["new.pem"])
        #expect(again.status == 1 && again.stderr.contains("has already signed"))
        let badAlgorithm = try Updatectl.run("image", "sign", work["b.tandem"], "--key", work["old.pem"], "--algorithm", "md5")
        #expect(badAlgorithm.status == 64 && badAlgorithm.stderr.contains("rsa-pss-sha256"))
    }

    @Test func damageIsReportedAndExitsOne() throws {
        let work = try Workspace()
        try work.keygen("build")
        #expect(try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "2", "--image", work["usr.raw"],
                                  "--out", work["b.tandem"]).status == 0)
        try Shell.run(["sh", "-c", "printf abc >> '\(work["b.tandem"])'"])
        let trailing = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["keys.d"])
        #expect(trailing.status == 1 && trailing.stderr.contains("has 3 extra bytes after the image"))

        try Shell.run(["truncate", "-s", "-4", work["b.tandem"]])
        let truncated = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["keys.d"])
        #expect(truncated.status == 1 && truncated.stderr.contains("is truncated"))

        try Shell.run(["truncate", "-s", "+1", work["b.tandem"]])
        try Shell.run(["sh", "-c", "printf x | dd of='\(work["b.tandem"])' bs=1 seek=10000 conv=notrunc status=none"])
        let flipped = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["keys.d"])
        #expect(flipped.status == 1 && flipped.stderr.contains("but the manifest says"))

        let raw = try Updatectl.run("image", "inspect", work["usr.raw"])
        #expect(raw.status == 1 && raw.stderr.contains("not a Tandem bundle"))
    }

    /// `image diff`: a second release with one block changed in the middle and two blocks
    /// added at the end downloads those three blocks (two ranges) and the chunk table.
    @Test func diffReportsWhatADeltaWouldFetch() throws {
        let work = try Workspace()
        try work.keygen("build")
        try Shell.run(["sh", "-c", """
            head -c 409600 /dev/urandom > '\(work["old.raw"])' && cp '\(work["old.raw"])' '\(work["new.raw"])' && \
            head -c 4096 /dev/urandom | dd of='\(work["new.raw"])' bs=4096 seek=50 conv=notrunc status=none && \
            head -c 8192 /dev/urandom >> '\(work["new.raw"])'
            """])
        for name in ["old", "new"] {
            let created = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "2", "--image", work["\(name).raw"],
                                            "--chunk-size", "65536", "--out", work["\(name).tandem"])
            #expect(created.status == 0, "\(created.stderr)")
        }
        // 418 KiB: 7 chunks and 102 blocks, 7 × 32 + 102 × 8 bytes of table.
        let table = 7 * 32 + 102 * 8
        for old in [work["old.tandem"], work["old.raw"]] {
            let report = try Updatectl.json("image", "diff", old, work["new.tandem"], "--json")
            #expect(report["schema"] as? String == "tandem.bundle-diff/1")
            #expect(report["blocks"] as? Int == 102 && report["blocksFound"] as? Int == 99 && report["blocksFetched"] as? Int == 3)
            #expect(report["bytesFetched"] as? Int == 3 * 4096 && report["ranges"] as? Int == 2)
            #expect(report["tableBytes"] as? Int == table && report["downloadBytes"] as? Int == table + 3 * 4096)
        }
        let text = try Updatectl.run("image", "diff", work["old.tandem"], work["new.tandem"])
        #expect(text.status == 0 && text.stdout.contains("3 fetched (12288 bytes) in 2 ranges"), "\(text.stdout)")
        let legacy = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "2", "--image", work["new.raw"],
                                       "--format", "1", "--out", work["legacy.tandem"])
        #expect(legacy.status == 0)
        let refused = try Updatectl.run("image", "diff", work["old.tandem"], work["legacy.tandem"])
        #expect(refused.status != 0 && refused.stderr.contains("a delta needs format 3"), "\(refused.stderr)")
    }

    /// Boot artifacts: create stores them, inspect lists them with offsets, verify checks each
    /// one's digest (openssl is the oracle), and a byte changed after signing fails verify.
    @Test func artifactsAreCreatedInspectedAndVerified() throws {
        let work = try Workspace()
        try work.keygen("build")
        try Shell.run(["sh", "-c", "head -c 70001 /dev/urandom > '\(work["vmlinuz"])'; head -c 5003 /dev/urandom > '\(work["initrd.img"])'"])
        let created = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "2", "--image", work["usr.raw"],
                                        "--kernel", work["vmlinuz"], "--initrd", work["initrd.img"], "--out", work["b.tandem"])
        #expect(created.status == 0, "\(created.stderr)")
        let report = try Updatectl.json("image", "inspect", work["b.tandem"], "--json")
        let header = try #require(report["header"] as? [String: Any])
        #expect(header["formatVersion"] as? Int == 3 && header["artifactsLength"] as? Int == 75_004)
        let manifest = try #require(report["manifest"] as? [String: Any])
        let artifacts = try #require(manifest["artifacts"] as? [[String: Any]])
        #expect(artifacts.map { $0["kind"] as? String } == ["kernel", "initrd"])
        #expect(artifacts.map { $0["offset"] as? Int } == [8192 + 1_500_000, 8192 + 1_500_000 + 70001])
        for (artifact, file) in zip(artifacts, ["vmlinuz", "initrd.img"]) {
            let digest = try Shell.run(["openssl", "dgst", "-sha256", "-r", work[file]]).prefix(64)
            #expect(artifact["sha256"] as? String == String(digest))
        }
        let verified = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["keys.d"])
        #expect(verified.status == 0 && verified.stdout.contains("initrd 5003 bytes"), "\(verified.stderr)")

        // The last byte of the initrd, changed after signing.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: work["b.tandem"]))
        let last = try handle.seekToEnd() - 1
        try handle.seek(toOffset: last)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: last)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()
        let tampered = try Updatectl.run("image", "verify", work["b.tandem"], "--keys", work["keys.d"])
        #expect(tampered.status == 1 && tampered.stderr.contains("the initrd in"), "\(tampered.stderr)")

        let both = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "2", "--image", work["usr.raw"],
                                     "--kernel", work["vmlinuz"], "--uki", work["initrd.img"], "--out", work["c.tandem"])
        #expect(both.status == 64 && both.stderr.contains("not both"))
        let initrdAlone = try Updatectl.run("image", "create", "--key", work["build.pem"], "--version", "2", "--image",
                                            work["usr.raw"], "--initrd", work["initrd.img"], "--out", work["c.tandem"])
        #expect(initrdAlone.status == 64 && initrdAlone.stderr.contains("--initrd needs --kernel"))
    }

    @Test func usageErrorsExit64() throws {
        let work = try Workspace()
        #expect(try Updatectl.run("image", "create", "--version", "2", "--image", work["usr.raw"], "--out", work["b"]).status == 64)
        let bits = try Updatectl.run("image", "keygen", "--private", work["k"], "--public", work["k.pub"], "--bits", "2048")
        #expect(bits.status == 64 && bits.stderr.contains("--bits applies only to --type rsa"))
        try work.keygen("build")
        let again = try Updatectl.run("image", "keygen", "--private", work["build.pem"], "--public", work["keys.d/build.pem"])
        #expect(again.status == 1 && again.stderr.contains("already exists; remove it or pass --force"))
        #expect(try Updatectl.run("image", "keygen", "--private", work["build.pem"], "--public", work["keys.d/build.pem"],
                                  "--force").status == 0)
    }
}
