import Testing
import Verification

@Suite struct BundleHeaderTests {
    @Test func serializedHeaderHasTheDocumentedLayout() throws {
        let header = BundleHeader(manifestLength: 300, signaturesLength: 105, imageLength: 0x0102_0304_0506)
        #expect(header.imageOffset == 4096, "64 + 300 + 105 bytes round up to one page")
        let bytes = header.serialized()
        #expect(bytes.count == BundleHeader.size)
        #expect(Array(bytes[0..<8]) == Array("TNDMBNDL".utf8))
        #expect(Array(bytes[8..<24]) == [1, 0, 0, 0, 64, 0, 0, 0, 0x2C, 0x01, 0, 0, 105, 0, 0, 0])
        #expect(Array(bytes[24..<40]) == [0, 0x10, 0, 0, 0, 0, 0, 0, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0, 0])
        #expect(bytes[40..<64].allSatisfy { $0 == 0 })
        #expect(try BundleHeader.parse(bytes) == header)
    }

    @Test func theImageOffsetIsTheNextPageBoundary() {
        #expect(BundleHeader.imageOffset(manifestLength: 0, signaturesLength: 0) == 4096)
        #expect(BundleHeader.imageOffset(manifestLength: 4032 - 4, signaturesLength: 4) == 4096)
        #expect(BundleHeader.imageOffset(manifestLength: 4032 - 4, signaturesLength: 5) == 8192)
        #expect(BundleHeader.imageOffset(manifestLength: 65536, signaturesLength: 65536) == 135_168)
    }

    static func header(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = BundleHeader(manifestLength: 300, signaturesLength: 105, imageLength: 8192).serialized()
        change(&bytes)
        return bytes
    }

    static func put(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }

    @Test func eachBrokenFieldIsRejectedWithItsOwnError() {
        let cases: [([UInt8], BundleError)] = [
            (Array(BundleHeaderTests.header { _ in }.prefix(63)), .truncated(needed: 64, available: 63)),
            (BundleHeaderTests.header { $0[0] = UInt8(ascii: "X") }, .badMagic),
            (BundleHeaderTests.header { BundleHeaderTests.put(4, at: 8, in: &$0) }, .unsupportedVersion(4)),
            // Version 3 stores the chunk table's length at 48: zero there is no version 3 bundle.
            (BundleHeaderTests.header { BundleHeaderTests.put(3, at: 8, in: &$0) }, .badTableLength(stored: 0, expected: nil)),
            // Version 2 stores the artifacts' length at 40: zero there is no version 2 bundle.
            (BundleHeaderTests.header { BundleHeaderTests.put(2, at: 8, in: &$0) },
             .badArtifactsLength(0, limit: BundleHeader.maximumArtifactsLength)),
            (BundleHeaderTests.header { BundleHeaderTests.put(2, at: 8, in: &$0); $0[47] = 0x80 },
             .badArtifactsLength(0x8000_0000_0000_0000, limit: BundleHeader.maximumArtifactsLength)),
            (BundleHeaderTests.header { BundleHeaderTests.put(72, at: 12, in: &$0) }, .badHeaderLength(72)),
            (BundleHeaderTests.header { BundleHeaderTests.put(65537, at: 16, in: &$0) },
             .sectionTooLong(section: "manifest", length: 65537, limit: 65536)),
            (BundleHeaderTests.header { BundleHeaderTests.put(70000, at: 20, in: &$0) },
             .sectionTooLong(section: "signature block", length: 70000, limit: 65536)),
            (BundleHeaderTests.header { $0[25] = 0x20 }, .badImageOffset(stored: 8192, expected: 4096)),
            (BundleHeaderTests.header { $0[39] = 0xFF }, .imageTooLong(0xFF00_0000_0000_2000)),
            (BundleHeaderTests.header { $0[63] = 1 }, .reservedNotZero(offset: 63)),
        ]
        for (bytes, expected) in cases {
            #expect(throws: expected) { try BundleHeader.parse(bytes) }
        }
    }

    @Test func errorsSayWhatWasWrongAndWhatToDo() {
        #expect(BundleError.badMagic.description.hasPrefix("not a Tandem bundle"))
        #expect(BundleError.unsupportedVersion(4).description.contains("this Tandem reads versions 1, 2 and 3"))
        #expect(BundleError.badImageOffset(stored: 0, expected: 4096).description.contains("updatectl image create"))
    }
}

@Suite struct BundlePreambleTests {
    static let signatures = [
        BundleSignature(keyID: [UInt8](repeating: 1, count: 32), algorithm: .ed25519, bytes: [UInt8](repeating: 7, count: 64)),
        BundleSignature(keyID: [UInt8](repeating: 2, count: 32), algorithm: .rsaPSSSHA256, bytes: [UInt8](repeating: 9, count: 384)),
    ]

    static var preamble: BundlePreamble {
        BundlePreamble(manifest: sampleManifest(), signatures: signatures)
    }

    @Test func roundTrip() throws {
        let bytes = BundlePreambleTests.preamble.serialized()
        #expect(UInt64(bytes.count) == BundlePreambleTests.preamble.header.imageOffset)
        let parsed = try BundlePreamble.parse(bytes + [0xEE, 0xEE])
        #expect(parsed == BundlePreambleTests.preamble, "bytes after imageOffset are not looked at")
        #expect(parsed.header.manifestLength == sampleManifest().canonicalBytes().count)
        #expect(parsed.header.signaturesLength == 4 + (32 + 1 + 2 + 64) + (32 + 1 + 2 + 384))
        #expect(parsed.header.imageLength == sampleManifest().imageSize)
    }

    @Test func thePrefixMustReachTheImageOffset() throws {
        let bytes = BundlePreambleTests.preamble.serialized()
        #expect(throws: BundleError.truncated(needed: 4096, available: 4095)) {
            try BundlePreamble.parse(Array(bytes.dropLast()))
        }
    }

    @Test func paddingMustBeZero() {
        var bytes = BundlePreambleTests.preamble.serialized()
        bytes[4000] = 1
        #expect(throws: BundleError.paddingNotZero(offset: 4000)) { try BundlePreamble.parse(bytes) }
    }

    /// Replaces the signature block with `block`, fixing up the header so that only the block is wrong.
    static func withSignatureBlock(_ block: [UInt8]) -> [UInt8] {
        let manifest = sampleManifest().canonicalBytes()
        let header = BundleHeader(manifestLength: manifest.count, signaturesLength: block.count, imageLength: sampleManifest().imageSize)
        let bytes = header.serialized() + manifest + block
        return bytes + [UInt8](repeating: 0, count: Int(header.imageOffset) - bytes.count)
    }

    @Test func theSignatureBlockMustBeConsumedExactly() {
        let block = BundleSignature.serializeBlock(BundlePreambleTests.signatures)
        let cases: [([UInt8], String)] = [
            (block + [0], "1 bytes are left over after its 2 signatures"),
            (Array(block.dropLast()), "it ends inside signature 2 of 2"),
            ([1, 0], "too short for the signature count"),
            ({ var changed = block; changed[4 + 32] = 9; return changed }(), "uses algorithm 9"),
            (BundleSignature.serializeBlock([BundlePreambleTests.signatures[0], BundlePreambleTests.signatures[0]]), "signed more than once"),
        ]
        for (block, message) in cases {
            #expect {
                try BundlePreamble.parse(BundlePreambleTests.withSignatureBlock(block))
            } throws: { error in
                guard case let .malformedSignatures(detail) = error as? BundleError else { return false }
                return detail.contains(message)
            }
        }
    }

    @Test func aBadManifestFailsTheWholePreamble() {
        var bytes = BundlePreambleTests.preamble.serialized()
        bytes[BundleHeader.size] = UInt8(ascii: "C")
        #expect(throws: BundleError.self) { try BundlePreamble.parse(bytes) }
    }
}
