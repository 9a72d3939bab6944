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

    private static let trustStore: Result<TrustStore, Error> = Result {
        _ = try ScratchDirectory.write(Array(trustedKey.utf8), to: "keys.d/fuzz.pem")
        _ = try ScratchDirectory.write(Array(artifactsKey.utf8), to: "keys.d/fuzz-artifacts.pem")
        return try TrustStore(directories: [ScratchDirectory.path + "/keys.d"])
    }

    static func run(_ input: [UInt8]) -> FuzzOutcome {
        _ = try? BundlePreamble.parse(input)
        return FuzzOutcome {
            let path = try ScratchDirectory.write(input, to: "bundle.tbnd")
            let preamble = try BundleFile.readPreamble(path: path)
            _ = try trustStore.get().verify(preamble)
            try BundleFile.verifyImage(path: path, preamble: preamble)
            try BundleFile.verifyArtifacts(path: path, preamble: preamble)
        }
    }
}
