import Platform
import SystemPackage

/// Reading and checking a bundle held in a local file.
///
/// The usual order is `readPreamble`, then `TrustStore.verify` on the preamble, then
/// `verifyImage`, or writing the image somewhere while hashing it, then comparing with the
/// verified manifest.
public enum BundleFile {
    /// Reads and parses the header, manifest and signature block; nothing here is trusted yet.
    public static func readPreamble(path: String) throws(BundleFileError) -> BundlePreamble {
        try withFile(path) { (file) throws(BundleFileError) in try readPreamble(file, path: path) }
    }

    /// Checks that the file is exactly as long as the header says: the preamble, the image, the
    /// boot artifacts, then nothing.
    public static func checkLength(path: String, preamble: BundlePreamble) throws(BundleFileError) {
        try withFile(path) { (file) throws(BundleFileError) in try checkLength(file, path: path, preamble: preamble) }
    }

    /// Checks the file's length, then hashes the image (streamed in 1 MiB chunks) and compares
    /// the digest with the manifest's. Pair it with `TrustStore.verify`, which establishes that
    /// the manifest itself can be believed.
    public static func verifyImage(path: String, preamble: BundlePreamble) throws(BundleFileError) {
        try withFile(path) { (file) throws(BundleFileError) in try verifyImage(file, path: path, preamble: preamble) }
    }

    static func readPreamble(_ file: FileDescriptor, path: String) throws(BundleFileError) -> BundlePreamble {
        // Short reads are left to the parsers, which report how much was missing.
        let head = try io("reading", path) { () throws(Errno) in
            try file.readBytes(upTo: BundleHeader.size, fromAbsoluteOffset: 0)
        }
        let header = try parse(path) { () throws(BundleError) in try BundleHeader.parse(head) }
        let prefix = try io("reading", path) { () throws(Errno) in
            try file.readBytes(upTo: Int(header.preambleLength), fromAbsoluteOffset: 0)
        }
        return try parse(path) { () throws(BundleError) in try BundlePreamble.parse(prefix) }
    }

    static func checkLength(_ file: FileDescriptor, path: String, preamble: BundlePreamble) throws(BundleFileError) {
        let size = try io("finding the size of", path) { () throws(Errno) in try file.sizeInBytes() }
        let end = preamble.header.bundleLength
        if size < end { throw .truncated(path: path, expected: end, actual: size) }
        if size > end { throw .trailingBytes(path: path, count: size - end) }
    }

    static func verifyImage(_ file: FileDescriptor, path: String, preamble: BundlePreamble) throws(BundleFileError) {
        let header = preamble.header, manifest = preamble.manifest
        guard header.imageLength == manifest.imageSize else {
            throw .imageSizeMismatch(path: path, header: header.imageLength, manifest: manifest.imageSize)
        }
        try checkLength(file, path: path, preamble: preamble)
        let table = manifest.chunkLayout.map(ChunkTableBuilder.init)
        let (digest, count) = try ChunkBuffer().hash(file, path: path, from: header.imageOffset, count: header.imageLength,
                                                     table: table)
        // The length was just checked, so a short read means the file shrank meanwhile.
        guard count == header.imageLength else {
            throw .truncated(path: path, expected: header.imageOffset + header.imageLength, actual: header.imageOffset + count)
        }
        guard digest == manifest.imageSHA256 else {
            throw .imageHashMismatch(path: path, expected: hexString(manifest.imageSHA256), actual: hexString(digest))
        }
        if let table, let chunking = manifest.chunking {
            try verifyChunkTable(file, path: path, header: header, computed: table.table, signed: chunking.tableSHA256)
        }
    }

    /// A format 3 bundle's stored chunk table must be the one computed from its image, the one
    /// the signed manifest names, followed by zeros up to the image.
    private static func verifyChunkTable(
        _ file: FileDescriptor, path: String, header: BundleHeader, computed: [UInt8], signed: [UInt8]
    ) throws(BundleFileError) {
        let stored = try io("reading", path) { () throws(Errno) in
            try file.readBytes(upTo: Int(header.imageOffset - header.tableOffset), fromAbsoluteOffset: Int64(header.tableOffset))
        }
        let tableEnd = computed.count
        guard SHA256.hash(computed) == signed else {
            throw .chunkTableMismatch(path: path, detail: "the manifest names a chunk table that is not this image's")
        }
        guard stored.count == Int(header.imageOffset - header.tableOffset), stored[0..<tableEnd].elementsEqual(computed) else {
            throw .chunkTableMismatch(path: path, detail: "the stored chunk table is not the one computed from the image")
        }
        if let nonzero = stored[tableEnd...].firstIndex(where: { $0 != 0 }) {
            throw .invalid(path: path, .paddingNotZero(offset: Int(header.tableOffset) + nonzero))
        }
    }

    /// Hashes each boot artifact in place and compares it with the manifest. Call it after
    /// `verifyImage`, which checks the file's length.
    public static func verifyArtifacts(path: String, preamble: BundlePreamble) throws(BundleFileError) {
        try withFile(path) { (file) throws(BundleFileError) in try verifyArtifacts(file, path: path, preamble: preamble) }
    }

    static func verifyArtifacts(_ file: FileDescriptor, path: String, preamble: BundlePreamble) throws(BundleFileError) {
        let buffer = ChunkBuffer()
        for (artifact, offset) in preamble.artifactRanges {
            let (digest, count) = try buffer.hash(file, path: path, from: offset, count: artifact.size)
            guard count == artifact.size else {
                throw .truncated(path: path, expected: offset + artifact.size, actual: offset + count)
            }
            guard digest == artifact.sha256 else {
                throw .artifactHashMismatch(path: path, kind: artifact.kind.rawValue, expected: hexString(artifact.sha256),
                                            actual: hexString(digest))
            }
        }
    }

    /// Opens `path` for reading for the duration of `body`.
    static func withFile<T>(
        _ path: String, _ body: (FileDescriptor) throws(BundleFileError) -> T
    ) throws(BundleFileError) -> T {
        let file = try io("opening", path) { () throws(Errno) in
            try Errno.typed { try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) }
        }
        // Nothing was written through this descriptor, so closing it cannot lose anything.
        defer { try? file.close() }
        return try body(file)
    }

    /// Runs a system call on `path`, reporting its failure as `operation` on `path`.
    static func io<T>(_ operation: String, _ path: String, _ body: () throws(Errno) -> T) throws(BundleFileError) -> T {
        do {
            return try body()
        } catch {
            throw .ioFailed(path: path, operation: operation, errno: error.rawValue)
        }
    }

    private static func parse<T>(_ path: String, _ body: () throws(BundleError) -> T) throws(BundleFileError) -> T {
        do {
            return try body()
        } catch {
            throw .invalid(path: path, error)
        }
    }
}
