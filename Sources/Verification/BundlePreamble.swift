/// Everything before the image: what is read and checked before the first image byte is written.
public struct BundlePreamble: Equatable, Sendable {
    public var header: BundleHeader
    /// The manifest exactly as stored: the bytes the signatures cover.
    public var manifestBytes: [UInt8]
    public var manifest: Manifest
    public var signatures: [BundleSignature]

    /// The preamble of a new bundle; its header follows from the sections and the manifest's image size.
    public init(manifest: Manifest, signatures: [BundleSignature]) {
        manifestBytes = manifest.canonicalBytes()
        self.manifest = manifest
        self.signatures = signatures
        header = BundleHeader(manifestLength: manifestBytes.count,
                              signaturesLength: BundleSignature.serializeBlock(signatures).count,
                              imageLength: manifest.imageSize)
    }

    /// Parses a byte prefix of a bundle that is at least `header.imageOffset` long; only the
    /// first `imageOffset` bytes are looked at. With fewer, throws `.truncated` naming how many
    /// are needed, so a reader can fetch the header first and then exactly the rest.
    public static func parse(_ prefix: [UInt8]) throws(BundleError) -> BundlePreamble {
        let header = try BundleHeader.parse(prefix)
        let end = Int(header.imageOffset)
        guard prefix.count >= end else { throw .truncated(needed: end, available: prefix.count) }
        let manifestEnd = BundleHeader.size + header.manifestLength
        let signaturesEnd = manifestEnd + header.signaturesLength
        if let nonzero = prefix[signaturesEnd..<end].firstIndex(where: { $0 != 0 }) {
            throw .paddingNotZero(offset: nonzero)
        }
        let manifestBytes = Array(prefix[BundleHeader.size..<manifestEnd])
        let signatures = try BundleSignature.parseBlock(prefix[manifestEnd..<signaturesEnd])
        return BundlePreamble(header: header, manifestBytes: manifestBytes,
                              manifest: try Manifest.parse(manifestBytes), signatures: signatures)
    }

    private init(header: BundleHeader, manifestBytes: [UInt8], manifest: Manifest, signatures: [BundleSignature]) {
        self.header = header
        self.manifestBytes = manifestBytes
        self.manifest = manifest
        self.signatures = signatures
    }

    /// Header, manifest, signature block and zero padding: the first `header.imageOffset`
    /// bytes of the bundle.
    public func serialized() -> [UInt8] {
        var bytes = header.serialized() + manifestBytes + BundleSignature.serializeBlock(signatures)
        bytes += [UInt8](repeating: 0, count: max(0, Int(header.imageOffset) - bytes.count))
        return bytes
    }

    /// The same bundle with one more signature, and the header that the longer block needs.
    func adding(_ signature: BundleSignature) -> BundlePreamble {
        var copy = self
        copy.signatures.append(signature)
        copy.header = BundleHeader(manifestLength: manifestBytes.count,
                                   signaturesLength: BundleSignature.serializeBlock(copy.signatures).count,
                                   imageLength: header.imageLength)
        return copy
    }
}
