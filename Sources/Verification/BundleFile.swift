/// Reading and checking a bundle held in a local file.
///
/// The usual order is `readPreamble`, then `TrustStore.verify` on the preamble, then
/// `verifyImage`, or writing the image somewhere while hashing it, then comparing with the
/// verified manifest.
public enum BundleFile {
    /// Reads and parses the header, manifest and signature block; nothing here is trusted yet.
    public static func readPreamble(path: String) throws(BundleFileError) -> BundlePreamble {
        try readPreamble(try io { () throws(SystemError) in try SystemFile(reading: path) })
    }

    /// Checks that the file is exactly as long as the header says: the preamble, then the image,
    /// then nothing.
    public static func checkLength(path: String, preamble: BundlePreamble) throws(BundleFileError) {
        try checkLength(try io { () throws(SystemError) in try SystemFile(reading: path) }, preamble: preamble)
    }

    /// Checks the file's length, then hashes the image (streamed in 1 MiB chunks) and compares
    /// the digest with the manifest's. Pair it with `TrustStore.verify`, which establishes that
    /// the manifest itself can be believed.
    public static func verifyImage(path: String, preamble: BundlePreamble) throws(BundleFileError) {
        try verifyImage(try io { () throws(SystemError) in try SystemFile(reading: path) }, preamble: preamble)
    }

    static func readPreamble(_ file: SystemFile) throws(BundleFileError) -> BundlePreamble {
        let head = try io { () throws(SystemError) in try file.read(count: BundleHeader.size, at: 0) }
        let header = try parse(file.path) { () throws(BundleError) in try BundleHeader.parse(head) }
        let prefix = try io { () throws(SystemError) in try file.read(count: Int(header.imageOffset), at: 0) }
        return try parse(file.path) { () throws(BundleError) in try BundlePreamble.parse(prefix) }
    }

    static func checkLength(_ file: SystemFile, preamble: BundlePreamble) throws(BundleFileError) {
        let size = try io { () throws(SystemError) in try file.size() }
        // BundleHeader.parse guarantees that this sum fits.
        let end = preamble.header.imageOffset + preamble.header.imageLength
        if size < end { throw .truncated(path: file.path, expected: end, actual: size) }
        if size > end { throw .trailingBytes(path: file.path, count: size - end) }
    }

    static func verifyImage(_ file: SystemFile, preamble: BundlePreamble) throws(BundleFileError) {
        let header = preamble.header, manifest = preamble.manifest
        guard header.imageLength == manifest.imageSize else {
            throw .imageSizeMismatch(path: file.path, header: header.imageLength, manifest: manifest.imageSize)
        }
        try checkLength(file, preamble: preamble)
        let (digest, count) = try io { () throws(SystemError) in
            try ChunkBuffer().hash(file, from: header.imageOffset, count: header.imageLength)
        }
        // The length was just checked, so a short read means the file shrank meanwhile.
        guard count == header.imageLength else {
            throw .truncated(path: file.path, expected: header.imageOffset + header.imageLength, actual: header.imageOffset + count)
        }
        guard digest == manifest.imageSHA256 else {
            throw .imageHashMismatch(path: file.path, expected: hexString(manifest.imageSHA256), actual: hexString(digest))
        }
    }

    static func io<T>(_ body: () throws(SystemError) -> T) throws(BundleFileError) -> T {
        do {
            return try body()
        } catch {
            throw BundleFileError(error)
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
