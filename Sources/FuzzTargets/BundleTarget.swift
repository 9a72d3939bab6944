import Verification

/// A bundle file as an installer meets it: the preamble read from the file (header, then
/// exactly the rest), the signatures checked against a trust store, the length checked and
/// the image and the boot artifacts hashed. The parse of the same bytes in memory, as an HTTP
/// download does it, too.
enum BundleTarget {
    /// The public half of the key that signed the seed bundles (its private half was thrown away).
    static let trustedKey = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAj88j17GAYLWEtzIXm/yQbNjZasPfa9X6dqOn4YBbvxk=
        -----END PUBLIC KEY-----

        """

    /// The public half of the key that signed the seeds with boot artifacts (format 2; its
    /// private half was thrown away too).
    static let artifactsKey = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAYflIXE8MdpN0Z0e2hOWmEDVLL7rCzBK4ZnPq4i45J+g=
        -----END PUBLIC KEY-----

        """

    /// The public half of the key that signed the format 3 seeds `chunked-*` (its private half
    /// was thrown away too).
    static let chunkedKey = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAAJjJY7ugf5MUGj46kCMi/O/kmPZgBbE8iZfDL7qjt/M=
        -----END PUBLIC KEY-----

        """

    private static let trustStore: Result<TrustStore, Error> = Result {
        _ = try ScratchDirectory.write(Array(trustedKey.utf8), to: "keys.d/fuzz.pem")
        _ = try ScratchDirectory.write(Array(artifactsKey.utf8), to: "keys.d/fuzz-artifacts.pem")
        _ = try ScratchDirectory.write(Array(chunkedKey.utf8), to: "keys.d/fuzz-chunked.pem")
        return try TrustStore(directories: [ScratchDirectory.path + "/keys.d"])
    }

    static func run(_ input: [UInt8]) -> FuzzOutcome {
        if let preamble = try? BundlePreamble.parse(input) { readChunkTable(input, preamble: preamble) }
        return FuzzOutcome {
            let path = try ScratchDirectory.write(input, to: "bundle.tbnd")
            let preamble = try BundleFile.readPreamble(path: path)
            _ = try trustStore.get().verify(preamble)
            try BundleFile.verifyImage(path: path, preamble: preamble)
            try BundleFile.verifyArtifacts(path: path, preamble: preamble)
        }
    }

    /// A format 3 bundle's table as an install reads it (after the signature, which is not
    /// checked here, so that mutated tables reach the reader): in uneven pieces, then proven.
    private static func readChunkTable(_ input: [UInt8], preamble: BundlePreamble) {
        guard let layout = preamble.manifest.chunkLayout, let chunking = preamble.manifest.chunking else { return }
        let header = preamble.header
        let reader = ChunkTableReader(layout: layout, tableSHA256: chunking.tableSHA256,
                                      regionLength: header.imageOffset - header.tableOffset)
        var position = Int(clamping: header.tableOffset), step = 1
        let end = min(input.count, Int(clamping: header.imageOffset))
        while position < end {
            let next = min(end, position + step)
            do {
                try input[position..<next].withUnsafeBytes { try reader.update($0) }
            } catch {
                return
            }
            position = next
            step = step * 2 + 1
        }
        _ = try? reader.finish()
    }
}
