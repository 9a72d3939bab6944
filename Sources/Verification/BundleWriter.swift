/// Builds and re-signs bundle files. Each writes a temporary file beside the output, flushes it
/// and renames it into place, so that a crash never leaves a half-written bundle under the
/// output's name.
public enum BundleWriter {
    /// Hashes `image` (one pass, 1 MiB at a time), signs the manifest with every key, and writes
    /// the bundle: preamble, then a copy of the image. `created` defaults to now.
    @discardableResult
    public static func create(
        image: String, version: String, compatible: String, minimumVersion: String? = nil, created: String? = nil,
        keys: [SigningKey], output: String
    ) throws(BundleFileError) -> BundlePreamble {
        let source = try BundleFile.io { () throws(SystemError) in try SystemFile(reading: image) }
        let before = try BundleFile.io { () throws(SystemError) in try source.stamp() }
        let buffer = ChunkBuffer()
        let (digest, size) = try BundleFile.io { () throws(SystemError) in try buffer.hash(source, from: 0, count: before.size) }
        guard size == before.size else { throw .imageChanged(path: image) }
        let manifest = Manifest(version: version, compatible: compatible, imageSize: size, imageSHA256: digest,
                                created: created ?? UTCTimestamp.now(), minimumVersion: minimumVersion)
        do {
            try manifest.validate()
        } catch {
            throw .invalidManifest(error)
        }
        var preamble = BundlePreamble(manifest: manifest, signatures: [])
        for key in keys {
            preamble = try sign(preamble, path: output, key: key, algorithm: nil)
        }
        try write(preamble, imageFrom: source, at: 0, unchangedSince: before, to: output, buffer: buffer)
        return preamble
    }

    /// Rewrites `bundle` with one more signature, by a key that has not signed it yet: the way
    /// to roll over to a new key while hosts still trust the old one. The image is hashed
    /// before anything is written, so that the new signature vouches only for an image that
    /// matches the manifest.
    @discardableResult
    public static func addSignature(
        bundle: String, key: SigningKey, algorithm: SignatureAlgorithm? = nil
    ) throws(BundleFileError) -> BundlePreamble {
        let source = try BundleFile.io { () throws(SystemError) in try SystemFile(reading: bundle) }
        let before = try BundleFile.io { () throws(SystemError) in try source.stamp() }
        let preamble = try BundleFile.readPreamble(source)
        let signed = try sign(preamble, path: bundle, key: key, algorithm: algorithm)
        try BundleFile.verifyImage(source, preamble: preamble)
        try write(signed, imageFrom: source, at: preamble.header.imageOffset, unchangedSince: before, to: bundle,
                  buffer: ChunkBuffer())
        return signed
    }

    private static func sign(
        _ preamble: BundlePreamble, path: String, key: SigningKey, algorithm: SignatureAlgorithm?
    ) throws(BundleFileError) -> BundlePreamble {
        guard !preamble.signatures.contains(where: { $0.keyID == key.keyID }) else {
            throw .alreadySigned(path: path, keyID: hexString(key.keyID))
        }
        do {
            return preamble.adding(try key.sign(manifest: preamble.manifestBytes, algorithm: algorithm))
        } catch {
            throw .signing(error)
        }
    }

    /// Writes the preamble and copies the image after it. The source is checked again before
    /// the rename: had it changed since it was hashed, the bundle would not match its manifest.
    private static func write(
        _ preamble: BundlePreamble, imageFrom source: SystemFile, at offset: UInt64, unchangedSince before: SystemFile.Stamp,
        to output: String, buffer: ChunkBuffer
    ) throws(BundleFileError) {
        let replacement = try BundleFile.io { () throws(SystemError) in try ReplacementFile(destination: output, mode: 0o644) }
        let copied = try BundleFile.io { () throws(SystemError) in
            try replacement.file.write(preamble.serialized(), at: 0)
            return try buffer.copy(source, from: offset, count: preamble.header.imageLength,
                                   to: replacement.file, at: preamble.header.imageOffset)
        }
        let after = try BundleFile.io { () throws(SystemError) in try source.stamp() }
        guard copied == preamble.header.imageLength, after == before else { throw .imageChanged(path: source.path) }
        try BundleFile.io { () throws(SystemError) in try replacement.commit(replacing: true) }
    }
}
