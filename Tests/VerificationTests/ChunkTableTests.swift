import Foundation
import Testing
import TestSupport
import Verification

/// Format 3's chunk table: its layout, the table `image create` writes (checked against
/// `openssl dgst` of the image's own bytes), and the reader an install proves it with.
@Suite struct ChunkTableTests {
    static let key = Result { try SigningKey.generate(.ed25519) }
    /// Not a whole number of chunks or of blocks: the last chunk and the last block are short.
    static let imageSize = 5 * 65536 + 4096 * 3 + 777
    static let chunkSize: UInt64 = 65536

    static func build(in scratch: Scratch) throws -> (image: String, bundle: String, preamble: BundlePreamble) {
        let image = try scratch.randomFile("usr.raw", size: imageSize)
        let bundle = scratch.file("update.tandem")
        let preamble = try BundleWriter.create(image: image, version: "3", compatible: "generic", created: "2026-12-05T00:00:00Z",
                                               chunkSize: chunkSize, keys: [try key.get()], output: bundle)
        return (image, bundle, preamble)
    }

    /// Bytes `range` of `path`, cut out by dd rather than by the code under test.
    static func bytes(of path: String, _ range: Range<UInt64>, into scratch: Scratch, name: String) throws -> String {
        let output = scratch.file(name)
        try Shell.run(["dd", "if=\(path)", "of=\(output)", "bs=1", "iflag=skip_bytes,count_bytes",
                       "skip=\(range.lowerBound)", "count=\(range.count)", "status=none"])
        return output
    }

    @Test func theLayoutCountsChunksAndBlocksAndRefusesWhatItCannotHold() throws {
        let layout = try #require(ChunkLayout(imageSize: UInt64(Self.imageSize), chunkSize: Self.chunkSize))
        #expect(layout.chunkCount == 6)
        #expect(layout.blockCount == 5 * 16 + 3 + 1)
        #expect(layout.tableLength == 6 * 32 + 84 * 8)
        #expect(layout.chunkRange(5) == 5 * 65536..<UInt64(Self.imageSize))
        #expect(ChunkLayout(imageSize: 1, chunkSize: 3 << 16) == nil, "not a power of two")
        #expect(ChunkLayout(imageSize: 1, chunkSize: 32 << 10) == nil, "below 64 KiB")
        #expect(ChunkLayout(imageSize: 1, chunkSize: 2 << 20) == nil, "above 1 MiB")
        #expect(ChunkLayout(imageSize: 0, chunkSize: 1 << 20) == nil, "an empty image")
        #expect(ChunkLayout(imageSize: ChunkLayout.maximumChunkCount << 20, chunkSize: 1 << 20) != nil)
        #expect(ChunkLayout(imageSize: (ChunkLayout.maximumChunkCount << 20) + 1, chunkSize: 1 << 20) == nil, "too many chunks")
    }

    @Test func createWritesATableThatOpenSSLAgreesWith() throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        let (image, bundle, preamble) = try Self.build(in: scratch)
        let header = preamble.header, layout = try #require(preamble.manifest.chunkLayout)
        #expect(header.formatVersion == 3 && preamble.manifest.formatValue == "3")
        #expect(header.tableOffset == 4096 && header.tableLength == layout.tableLength)
        #expect(header.imageOffset == 4096 + (layout.tableLength + 4095) / 4096 * 4096)
        let table = try Self.bytes(of: bundle, header.tableOffset..<(header.tableOffset + header.tableLength), into: scratch, name: "table")
        #expect(try OpenSSLTool.sha256(of: table) == preamble.manifest.chunking?.tableSHA256, "the signed table digest")
        let tableBytes = try Array(Data(contentsOf: URL(fileURLWithPath: table)))
        for chunk in 0..<layout.chunkCount {
            let piece = try Self.bytes(of: image, layout.chunkRange(chunk), into: scratch, name: "chunk")
            #expect(Array(tableBytes[(chunk * 32)..<(chunk * 32 + 32)]) == (try OpenSSLTool.sha256(of: piece)), "chunk \(chunk)")
        }
        for block in [0, 17, Int(layout.blockCount) - 1] {
            let start = UInt64(block) * 4096
            let piece = try Self.bytes(of: image, start..<min(start + 4096, UInt64(Self.imageSize)), into: scratch, name: "block")
            let key = Int(layout.keysOffset) + block * 8
            #expect(Array(tableBytes[key..<(key + 8)]) == Array(try OpenSSLTool.sha256(of: piece).prefix(8)), "block \(block)")
        }
        // The image follows at imageOffset, byte for byte, and the whole bundle verifies.
        let copied = try Self.bytes(of: bundle, header.imageOffset..<header.bundleLength, into: scratch, name: "image")
        #expect(try OpenSSLTool.sha256(of: copied) == (try OpenSSLTool.sha256(of: image)))
        try BundleFile.verifyImage(path: bundle, preamble: preamble)
    }

    /// The region from the table to the image, fed in uneven pieces as a network delivers it.
    static func read(_ region: [UInt8], layout: ChunkLayout, sha256: [UInt8], regionLength: Int? = nil) throws -> ChunkDigests {
        let reader = ChunkTableReader(layout: layout, tableSHA256: sha256, regionLength: UInt64(regionLength ?? region.count))
        var position = 0, step = 1
        while position < region.count {
            let end = min(region.count, position + step)
            try region[position..<end].withUnsafeBytes { try reader.update($0) }
            position = end
            step = step * 3 + 1
        }
        return try reader.finish()
    }

    /// The keys a delta plans from, handed on as they arrive in pieces that split them: the
    /// same as the table's key section read whole.
    @Test func theReaderHandsOnEveryBlockKeyWhateverThePieces() throws {
        let scratch = try Scratch()
        let (_, bundle, preamble) = try Self.build(in: scratch)
        let header = preamble.header, layout = try #require(preamble.manifest.chunkLayout)
        let file = try Array(Data(contentsOf: URL(fileURLWithPath: bundle)))
        let region = Array(file[Int(header.tableOffset)..<Int(header.imageOffset)])
        var expected: [UInt64] = []
        for block in 0..<Int(layout.blockCount) {
            let start = Int(layout.keysOffset) + block * 8
            expected.append(region[start..<(start + 8)].reduce(0) { $0 << 8 | UInt64($1) })
        }
        for step in [1, 3, 7, 4096] {
            var keys: [UInt64] = []
            let reader = ChunkTableReader(layout: layout, tableSHA256: try #require(preamble.manifest.chunking?.tableSHA256),
                                          regionLength: UInt64(region.count), blockKey: { keys.append($0) })
            var position = 0
            while position < region.count {
                let end = min(region.count, position + step)
                try region[position..<end].withUnsafeBytes { try reader.update($0) }
                position = end
            }
            _ = try reader.finish()
            #expect(keys == expected, "pieces of \(step) bytes")
        }
    }

    @Test func theReaderProvesTheTableAndRefusesAnyChangeToIt() throws {
        let scratch = try Scratch()
        let (_, bundle, preamble) = try Self.build(in: scratch)
        let header = preamble.header, layout = try #require(preamble.manifest.chunkLayout)
        let signed = try #require(preamble.manifest.chunking?.tableSHA256)
        let file = try Array(Data(contentsOf: URL(fileURLWithPath: bundle)))
        let region = Array(file[Int(header.tableOffset)..<Int(header.imageOffset)])

        let digests = try Self.read(region, layout: layout, sha256: signed)
        let firstChunk = Array(region[0..<32])
        #expect(firstChunk.withUnsafeBytes { digests.matches($0, chunk: 0) })
        #expect(!firstChunk.withUnsafeBytes { digests.matches($0, chunk: 1) })
        #expect(!firstChunk.withUnsafeBytes { digests.matches($0, chunk: layout.chunkCount) }, "past the table")

        var tampered = region
        tampered[40] ^= 1
        #expect(throws: BundleError.self) { try Self.read(tampered, layout: layout, sha256: signed) }
        var key = region
        key[Int(layout.keysOffset) + 3] ^= 1
        #expect(throws: BundleError.self, "a block key is covered too") { try Self.read(key, layout: layout, sha256: signed) }
        var padding = region
        padding[padding.count - 1] = 1
        #expect { try Self.read(padding, layout: layout, sha256: signed) } throws: { ($0 as? BundleError).map {
            if case .paddingNotZero = $0 { true } else { false }
        } ?? false }
        #expect(throws: BundleError.self, "short") {
            try Self.read(Array(region.dropLast()), layout: layout, sha256: signed, regionLength: region.count)
        }
        let reader = ChunkTableReader(layout: layout, tableSHA256: signed, regionLength: UInt64(region.count))
        #expect(throws: BundleError.self, "long") { try (region + [0]).withUnsafeBytes { try reader.update($0) } }
    }

    @Test func aStoredTableThatIsNotTheImagesFailsVerify() throws {
        let scratch = try Scratch()
        let (_, bundle, preamble) = try Self.build(in: scratch)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: bundle))
        try handle.seek(toOffset: preamble.header.tableOffset + 5)
        try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
        try handle.close()
        #expect { try BundleFile.verifyImage(path: bundle, preamble: preamble) } throws: { error in
            guard case .chunkTableMismatch = error as? BundleFileError else { return false }
            return "\(error)".contains("not the one computed from the image")
        }
    }

    @Test func aLegacyBundleIsStillFormatOne() throws {
        let scratch = try Scratch()
        let image = try scratch.randomFile("usr.raw", size: 70000)
        let bundle = scratch.file("legacy.tandem")
        let preamble = try BundleWriter.create(image: image, version: "3", compatible: "generic", chunkSize: nil,
                                               keys: [try Self.key.get()], output: bundle)
        #expect(preamble.header.formatVersion == 1 && preamble.manifest.chunking == nil)
        #expect(preamble.header.imageOffset == 4096 && preamble.header.tableLength == 0)
        try BundleFile.verifyImage(path: bundle, preamble: preamble)
    }
}

/// Format 3's manifest keys and header field: one encoding, and every inconsistency refused.
@Suite struct ChunkedFormatTests {
    static let chunking = Manifest.Chunking(chunkSize: 1 << 20, tableSHA256: [UInt8](repeating: 0xCD, count: 32))

    @Test func aFormatThreeManifestRoundTripsInCanonicalOrder() throws {
        var manifest = sampleManifest(imageSize: 3 << 20)
        manifest.chunking = Self.chunking
        let text = String(decoding: manifest.canonicalBytes(), as: UTF8.self)
        #expect(text.hasPrefix("chunk-size=1048576\nchunk-table-sha256=\(String(repeating: "cd", count: 32))\ncompatible="))
        #expect(text.contains("format=3\n"))
        #expect(try Manifest.parse(manifest.canonicalBytes()) == manifest)
        #expect(manifest.chunkLayout?.chunkCount == 3)
    }

    static func refused(_ edit: (String) -> String) -> String? {
        var manifest = sampleManifest(imageSize: 3 << 20)
        manifest.chunking = chunking
        do {
            _ = try Manifest.parse(Array(edit(String(decoding: manifest.canonicalBytes(), as: UTF8.self)).utf8))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func inconsistentChunkingIsRefused() {
        #expect(Self.refused { $0.replacingOccurrences(of: "format=3", with: "format=1") }?.contains("needs format 3") == true)
        #expect(Self.refused { $0.replacingOccurrences(of: "chunk-size=1048576\n", with: "") }?.contains("without chunk-size") == true)
        #expect(Self.refused { $0.replacingOccurrences(of: "1048576", with: "1000000") }?.contains("power of two") == true)
        #expect(Self.refused { $0.replacingOccurrences(of: "1048576", with: "2097152") }?.contains("power of two") == true)
        #expect(Self.refused { $0.replacingOccurrences(of: "chunk-size=1048576", with: "chunk-size=01048576") } != nil)
        let formatOnly = sampleManifest().canonicalBytes()
        let relabelled = String(decoding: formatOnly, as: UTF8.self).replacingOccurrences(of: "format=1", with: "format=3")
        #expect(throws: BundleError.self, "format 3 without a table") { try Manifest.parse(Array(relabelled.utf8)) }
    }

    @Test func aVersionThreeHeaderCarriesTheTableLengthAndMustMatchTheManifest() throws {
        let header = BundleHeader(manifestLength: 300, signaturesLength: 105, imageLength: 3 << 20, tableLength: 5000)
        let bytes = header.serialized()
        #expect(Array(bytes[8..<12]) == [3, 0, 0, 0])
        #expect(Array(bytes[48..<56]) == [0x88, 0x13, 0, 0, 0, 0, 0, 0])
        #expect(header.tableOffset == 4096 && header.imageOffset == 4096 + 8192 && header.preambleLength == 4096)
        #expect(try BundleHeader.parse(bytes) == header)
        var empty = bytes
        empty[48] = 0
        empty[49] = 0
        #expect { try BundleHeader.parse(empty) } throws: { "\($0)".contains("a version 3 bundle has 1 to") }

        var manifest = sampleManifest(imageSize: 3 << 20)
        manifest.chunking = Self.chunking
        let preamble = BundlePreamble(manifest: manifest, signatures: [])
        #expect(preamble.header.tableLength == manifest.chunkLayout?.tableLength)
        var wrong = preamble.serialized()
        wrong[48] ^= 8
        #expect { try BundlePreamble.parse(wrong) } throws: { error in
            guard case .badTableLength? = error as? BundleError else { return false }
            return true
        }
    }
}
