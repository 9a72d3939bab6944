/// Everything before the image: what is read and checked before the first image byte is written.
public struct BundlePreamble: Equatable, Sendable {
    public var header: BundleHeader
    /// The manifest exactly as stored: the bytes the signatures cover.
    public var manifestBytes: [UInt8]
    public var manifest: Manifest
    public var signatures: [BundleSignature]
    /// The first `header.preambleLength` bytes of the bundle exactly as they were read (by `parse`),
    /// or as they will be written (for a new bundle). A digest of the whole bundle file, such as
    /// the one an update server announces, must cover the bytes that really arrived, not a
    /// re-encoding of what was understood from them.
    ///
    /// Set when the preamble is made; editing `header` or `signatures` afterwards does not
    /// change it (`adding` makes a new preamble with new bytes).
    public let storedBytes: [UInt8]

    /// The preamble of a new bundle; its header follows from the sections and the manifest's image size.
    public init(manifest: Manifest, signatures: [BundleSignature]) {
        let manifestBytes = manifest.canonicalBytes()
        let header = BundleHeader(manifestLength: manifestBytes.count,
                                  signaturesLength: BundleSignature.serializeBlock(signatures).count,
                                  imageLength: manifest.imageSize, artifactsLength: manifest.artifacts.totalSize ?? 0,
                                  tableLength: manifest.chunkLayout?.tableLength ?? 0)
        self.init(header: header, manifestBytes: manifestBytes, manifest: manifest, signatures: signatures)
    }

    /// Parses a byte prefix of a bundle that is at least `header.preambleLength` long; only the
    /// first `preambleLength` bytes are looked at. With fewer, throws `.truncated` naming how many
    /// are needed, so a reader can fetch the header first and then exactly the rest.
    public static func parse(_ prefix: [UInt8]) throws(BundleError) -> BundlePreamble {
        let header = try BundleHeader.parse(prefix)
        let end = Int(header.preambleLength)
        guard prefix.count >= end else { throw .truncated(needed: end, available: prefix.count) }
        let manifestEnd = BundleHeader.size + header.manifestLength
        let signaturesEnd = manifestEnd + header.signaturesLength
        if let nonzero = prefix[signaturesEnd..<end].firstIndex(where: { $0 != 0 }) {
            throw .paddingNotZero(offset: nonzero)
        }
        let manifestBytes = Array(prefix[BundleHeader.size..<manifestEnd])
        let signatures = try BundleSignature.parseBlock(prefix[manifestEnd..<signaturesEnd])
        let manifest = try Manifest.parse(manifestBytes)
        // The header is not signed: its artifacts length is believed only because it equals the
        // sum the manifest lists (the manifest bounds each size, so the sum cannot overflow).
        let listed = manifest.artifacts.totalSize
        guard listed == header.artifactsLength else {
            throw .artifactsLengthMismatch(header: header.artifactsLength, manifest: listed)
        }
        // Likewise the table's length, which the signed image size and chunk size determine.
        let tableLength = manifest.chunkLayout?.tableLength ?? 0
        guard tableLength == header.tableLength else {
            throw .badTableLength(stored: header.tableLength, expected: tableLength)
        }
        return BundlePreamble(header: header, manifestBytes: manifestBytes, manifest: manifest,
                              signatures: signatures, storedBytes: Array(prefix[0..<end]))
    }

    /// A preamble made here rather than read: its bytes are its serialization.
    private init(header: BundleHeader, manifestBytes: [UInt8], manifest: Manifest, signatures: [BundleSignature]) {
        self.init(header: header, manifestBytes: manifestBytes, manifest: manifest, signatures: signatures,
                  storedBytes: BundlePreamble.serialize(header: header, manifestBytes: manifestBytes, signatures: signatures))
    }

    private init(header: BundleHeader, manifestBytes: [UInt8], manifest: Manifest, signatures: [BundleSignature],
                 storedBytes: [UInt8]) {
        self.header = header
        self.manifestBytes = manifestBytes
        self.manifest = manifest
        self.signatures = signatures
        self.storedBytes = storedBytes
    }

    /// Header, manifest, signature block and zero padding: the first `header.preambleLength`
    /// bytes of the bundle, encoded from the fields as they are now.
    public func serialized() -> [UInt8] {
        BundlePreamble.serialize(header: header, manifestBytes: manifestBytes, signatures: signatures)
    }

    private static func serialize(header: BundleHeader, manifestBytes: [UInt8], signatures: [BundleSignature]) -> [UInt8] {
        var bytes = header.serialized() + manifestBytes + BundleSignature.serializeBlock(signatures)
        bytes += [UInt8](repeating: 0, count: max(0, Int(header.preambleLength) - bytes.count))
        return bytes
    }

    /// The same bundle with one more signature, and the header that the longer block needs.
    func adding(_ signature: BundleSignature) -> BundlePreamble {
        let signatures = self.signatures + [signature]
        let header = BundleHeader(manifestLength: manifestBytes.count,
                                  signaturesLength: BundleSignature.serializeBlock(signatures).count,
                                  imageLength: header.imageLength, artifactsLength: header.artifactsLength,
                                  tableLength: header.tableLength)
        return BundlePreamble(header: header, manifestBytes: manifestBytes, manifest: manifest, signatures: signatures)
    }

    /// Where each artifact's bytes lie in the bundle, in the manifest's order, right after the
    /// image. `parse` checked that the lengths add up to the header's, which fits in an Int64.
    public var artifactRanges: [(artifact: BundleArtifact, offset: UInt64)] {
        var offset = header.artifactsOffset
        return manifest.artifacts.map { artifact in
            defer { offset += artifact.size }
            return (artifact, offset)
        }
    }

    /// Compares what the preamble says, not `storedBytes`: the format has exactly one encoding,
    /// so two parsed preambles with equal fields were read from equal bytes, and a preamble
    /// whose fields were edited should equal one built with those fields.
    public static func == (lhs: BundlePreamble, rhs: BundlePreamble) -> Bool {
        lhs.header == rhs.header && lhs.manifestBytes == rhs.manifestBytes && lhs.manifest == rhs.manifest
            && lhs.signatures == rhs.signatures
    }
}
