import Platform
import SystemPackage

/// Builds and re-signs bundle files. Each writes a temporary file beside the output, flushes it
/// and renames it into place, so that a crash never leaves a half-written bundle under the
/// output's name.
public enum BundleWriter {
    /// Hashes `image` and each boot artifact (one pass, 1 MiB at a time), signs the manifest
    /// with every key, and writes the bundle: preamble, the chunk table (format 3), a copy of the
    /// image, then copies of the artifacts in kind order. `created` defaults to now.
    /// `chunkSize`: format 3 with chunks of that size; nil: format 1, or 2 with artifacts, for
    /// hosts whose Tandem predates format 3.
    @discardableResult
    public static func create(
        image: String, version: String, compatible: String, minimumVersion: String? = nil, created: String? = nil,
        artifacts artifactPaths: [BundleArtifact.Kind: String] = [:], chunkSize: UInt64? = ChunkLayout.defaultChunkSize,
        keys: [SigningKey], output: String
    ) throws(BundleFileError) -> BundlePreamble {
        let buffer = ChunkBuffer()
        var pieces: [Piece] = []
        defer { for piece in pieces { try? piece.file.close() } }
        var table: ChunkTableBuilder?
        pieces.append(try Piece.open(image, buffer: buffer) { (size) throws(BundleFileError) in
            guard let chunkSize else { return nil }
            guard let layout = ChunkLayout(imageSize: size, chunkSize: chunkSize) else {
                throw .invalidManifest(.malformedManifest(size == 0
                    ? "image-size is 0: the image is empty, and an empty slot cannot boot; build the bundle from the real image"
                    : "chunk-size \(chunkSize) does not fit an image of \(size) bytes: it must be a power of two from "
                        + "\(ChunkLayout.chunkSizes.lowerBound) to \(ChunkLayout.chunkSizes.upperBound), giving at most "
                        + "\(ChunkLayout.maximumChunkCount) chunks"))
            }
            table = ChunkTableBuilder(layout: layout)
            return table
        })
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
                                              minimumVersion: minimumVersion, artifacts: artifacts,
                                              chunking: table.map { Manifest.Chunking(chunkSize: $0.layout.chunkSize,
                                                                                      tableSHA256: SHA256.hash($0.table)) }))
        var preamble = BundlePreamble(manifest: manifest, signatures: [])
        for key in keys {
            preamble = try sign(preamble, path: output, key: key, algorithm: nil)
        }
        try write(preamble, table: table?.table ?? [], pieces: pieces, at: preamble.header.imageOffset, to: output, buffer: buffer)
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

        /// Opens and hashes the whole of `path`; the caller closes `file`. `table` is asked, once
        /// the size is known, for a chunk table to feed the same bytes to.
        static func open(
            _ path: String, buffer: ChunkBuffer,
            table: (UInt64) throws(BundleFileError) -> ChunkTableBuilder? = { _ in nil }
        ) throws(BundleFileError) -> Piece {
            let file = try BundleFile.io("opening", path) { () throws(Errno) in
                try Errno.typed { try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) }
            }
            do throws(BundleFileError) {
                let stamp = try BundleFile.io("examining", path) { () throws(Errno) in try file.stamp() }
                let (digest, size) = try buffer.hash(file, path: path, from: 0, count: stamp.size, table: try table(stamp.size))
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
            // Chunk table, image and artifacts are copied as one range: their offsets from the end
            // of the preamble stay the same.
            let start = preamble.header.preambleLength
            let payload = Piece(file: source, path: bundle, offset: start, count: preamble.header.bundleLength - start,
                                digest: preamble.manifest.imageSHA256, stamp: before)
            try write(signed, table: [], pieces: [payload], at: signed.header.preambleLength, to: bundle, buffer: ChunkBuffer())
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

    /// Writes the preamble, the chunk table (when not empty) at the table's offset, and copies
    /// the pieces one after the other from `start`; the gaps stay zero. Every source is checked
    /// again before the rename: had one changed since it was hashed, the bundle would not match
    /// its manifest.
    private static func write(
        _ preamble: BundlePreamble, table: [UInt8], pieces: [Piece], at start: UInt64, to output: String, buffer: ChunkBuffer
    ) throws(BundleFileError) {
        let replacement = try BundleFile.io("creating a file beside", output) { () throws(Errno) in
            try ReplacementFile(destination: FilePath(output), permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
        try BundleFile.io("writing", output) { () throws(Errno) in
            try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, preamble.serialized())
            if !table.isEmpty {
                try replacement.descriptor.writeExactly(toAbsoluteOffset: Int64(preamble.header.tableOffset), table)
            }
        }
        // The manifest bounds every size and the header parse bounds their sum, so these offsets fit.
        var position = start
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
