import Platform
import SystemPackage

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
        try BundleFile.withFile(image) { (source) throws(BundleFileError) in
            let before = try BundleFile.io("examining", image) { () throws(Errno) in try source.stamp() }
            let buffer = ChunkBuffer()
            let (digest, size) = try buffer.hash(source, path: image, from: 0, count: before.size)
            guard size == before.size else { throw .imageChanged(path: image) }
            let manifest = try validated(Manifest(version: version, compatible: compatible, imageSize: size, imageSHA256: digest,
                                                  created: created ?? UTCTimestamp.now(), minimumVersion: minimumVersion))
            var preamble = BundlePreamble(manifest: manifest, signatures: [])
            for key in keys {
                preamble = try sign(preamble, path: output, key: key, algorithm: nil)
            }
            try write(preamble, imageFrom: source, path: image, at: 0, unchangedSince: before, to: output, buffer: buffer)
            return preamble
        }
    }

    /// Rewrites `bundle` with one more signature, by a key that has not signed it yet: the way
    /// to roll over to a new key while hosts still trust the old one. The image is hashed
    /// before anything is written, so that the new signature vouches only for an image that
    /// matches the manifest.
    @discardableResult
    public static func addSignature(
        bundle: String, key: SigningKey, algorithm: SignatureAlgorithm? = nil
    ) throws(BundleFileError) -> BundlePreamble {
        try BundleFile.withFile(bundle) { (source) throws(BundleFileError) in
            let before = try BundleFile.io("examining", bundle) { () throws(Errno) in try source.stamp() }
            let preamble = try BundleFile.readPreamble(source, path: bundle)
            let signed = try sign(preamble, path: bundle, key: key, algorithm: algorithm)
            try BundleFile.verifyImage(source, path: bundle, preamble: preamble)
            try write(signed, imageFrom: source, path: bundle, at: preamble.header.imageOffset, unchangedSince: before,
                      to: bundle, buffer: ChunkBuffer())
            return signed
        }
    }

    private static func validated(_ manifest: Manifest) throws(BundleFileError) -> Manifest {
        do {
            try manifest.validate()
        } catch {
            throw .invalidManifest(error)
        }
        return manifest
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
        _ preamble: BundlePreamble, imageFrom source: FileDescriptor, path sourcePath: String, at offset: UInt64,
        unchangedSince before: FileStamp, to output: String, buffer: ChunkBuffer
    ) throws(BundleFileError) {
        let replacement = try BundleFile.io("creating a file beside", output) { () throws(Errno) in
            try ReplacementFile(destination: FilePath(output), permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
        try BundleFile.io("writing", output) { () throws(Errno) in
            try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, preamble.serialized())
        }
        let copied = try buffer.copy(source, path: sourcePath, from: offset, count: preamble.header.imageLength,
                                     to: replacement.descriptor, path: output, at: preamble.header.imageOffset)
        let after = try BundleFile.io("examining", sourcePath) { () throws(Errno) in try source.stamp() }
        guard copied == preamble.header.imageLength, after == before else { throw .imageChanged(path: sourcePath) }
        try BundleFile.io("replacing", output) { () throws(Errno) in try replacement.commit(replacing: true) }
    }
}
