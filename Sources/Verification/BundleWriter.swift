import Platform
import SystemPackage

/// Builds and re-signs bundle files. Each writes a temporary file beside the output, flushes it
/// and renames it into place, so that a crash never leaves a half-written bundle under the
/// output's name.
public enum BundleWriter {
    /// Hashes `image` and each boot artifact (one pass, 1 MiB at a time), signs the manifest
    /// with every key, and writes the bundle: preamble, a copy of the image, then copies of the
    /// artifacts in kind order. `created` defaults to now.
    @discardableResult
    public static func create(
        image: String, version: String, compatible: String, minimumVersion: String? = nil, created: String? = nil,
        artifacts artifactPaths: [BundleArtifact.Kind: String] = [:], keys: [SigningKey], output: String
    ) throws(BundleFileError) -> BundlePreamble {
        let buffer = ChunkBuffer()
        var pieces: [Piece] = []
        defer { for piece in pieces { try? piece.file.close() } }
        pieces.append(try Piece.open(image, buffer: buffer))
        var artifacts: [BundleArtifact] = []
        for (kind, path) in artifactPaths.sorted(by: { $0.key < $1.key }) {
            let piece = try Piece.open(path, buffer: buffer)
            pieces.append(piece)
            guard piece.count <= BundleArtifact.maximumSize else {
                throw .artifactTooLarge(path: path, size: piece.count, limit: BundleArtifact.maximumSize)
            }
            artifacts.append(BundleArtifact(kind: kind, size: piece.count, sha256: piece.digest))
        }
        let manifest = try validated(Manifest(version: version, compatible: compatible, imageSize: pieces[0].count,
                                              imageSHA256: pieces[0].digest, created: created ?? Manifest.createdNow(),
                                              minimumVersion: minimumVersion, artifacts: artifacts))
        var preamble = BundlePreamble(manifest: manifest, signatures: [])
        for key in keys {
            preamble = try sign(preamble, path: output, key: key, algorithm: nil)
        }
        try write(preamble, pieces: pieces, to: output, buffer: buffer)
        return preamble
    }

    /// A file, or a range of one, copied into the bundle after the preamble, with its state when
    /// it was hashed.
    private struct Piece {
        var file: FileDescriptor
        var path: String
        var offset: UInt64
        var count: UInt64
        var digest: [UInt8]
        var stamp: FileStamp

        /// Opens and hashes the whole of `path`; the caller closes `file`.
        static func open(_ path: String, buffer: ChunkBuffer) throws(BundleFileError) -> Piece {
            let file = try BundleFile.io("opening", path) { () throws(Errno) in
                try Errno.typed { try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) }
            }
            do throws(BundleFileError) {
                let stamp = try BundleFile.io("examining", path) { () throws(Errno) in try file.stamp() }
                let (digest, size) = try buffer.hash(file, path: path, from: 0, count: stamp.size)
                guard size == stamp.size else { throw BundleFileError.imageChanged(path: path) }
                return Piece(file: file, path: path, offset: 0, count: size, digest: digest, stamp: stamp)
            } catch {
                try? file.close()
                throw error
            }
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
            try BundleFile.verifyArtifacts(source, path: bundle, preamble: preamble)
            // Image and artifacts are copied as one range: their offsets from imageOffset stay the same.
            let payload = Piece(file: source, path: bundle, offset: preamble.header.imageOffset,
                                count: preamble.header.imageLength + preamble.header.artifactsLength,
                                digest: preamble.manifest.imageSHA256, stamp: before)
            try write(signed, pieces: [payload], to: bundle, buffer: ChunkBuffer())
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

    /// Writes the preamble and copies the pieces after it, one after the other. Every source is
    /// checked again before the rename: had one changed since it was hashed, the bundle would
    /// not match its manifest.
    private static func write(
        _ preamble: BundlePreamble, pieces: [Piece], to output: String, buffer: ChunkBuffer
    ) throws(BundleFileError) {
        let replacement = try BundleFile.io("creating a file beside", output) { () throws(Errno) in
            try ReplacementFile(destination: FilePath(output), permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
        try BundleFile.io("writing", output) { () throws(Errno) in
            try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, preamble.serialized())
        }
        // The manifest bounds every size and the header parse bounds their sum, so these offsets fit.
        var position = preamble.header.imageOffset
        for piece in pieces {
            let copied = try buffer.copy(piece.file, path: piece.path, from: piece.offset, count: piece.count,
                                         to: replacement.descriptor, path: output, at: position)
            let after = try BundleFile.io("examining", piece.path) { () throws(Errno) in try piece.file.stamp() }
            guard copied == piece.count, after == piece.stamp else { throw .imageChanged(path: piece.path) }
            position += piece.count
        }
        try BundleFile.io("replacing", output) { () throws(Errno) in try replacement.commit(replacing: true) }
    }
}
