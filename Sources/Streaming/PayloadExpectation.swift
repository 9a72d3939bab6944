import FoundationEssentials

/// What an update server (Omaha) says about the package it offers: the size and the SHA-256 of
/// the whole bundle file, preamble and image, bytes `0..<imageOffset + imageLength`.
///
/// This is checked in addition to the bundle's own signature, never instead of it: the
/// signature says the image is authentic, the expectation says it is the file the server
/// announced. A server that announces one thing and serves another is wrong, or someone in
/// between is, and either way nothing may become bootable.
public struct PayloadExpectation: Sendable, Equatable {
    /// The whole bundle file's length in bytes.
    public var size: UInt64
    /// The whole bundle file's SHA-256 (32 bytes).
    public var sha256: [UInt8]
    /// The version the server offered, which the bundle's signed manifest must state: what
    /// binds the server's word to the signature when a delta leaves the file's digest
    /// unchecked (docs/streaming.md, "Delta installs").
    public var version: String?

    public init(size: UInt64, sha256: [UInt8], version: String? = nil) {
        self.size = size
        self.sha256 = sha256
        self.version = version
    }

    /// From Omaha's form: the digest base64-encoded, as the postinstall action's `sha256`
    /// attribute carries it. Nil unless the text is base64 of exactly 32 bytes.
    public init?(size: UInt64, sha256Base64: String) {
        guard let digest = Data(base64Encoded: sha256Base64), digest.count == 32 else { return nil }
        self.init(size: size, sha256: Array(digest))
    }

    /// The digest as Omaha sends it, for messages that must be compared with the server's.
    public var sha256Base64: String { base64String(sha256) }
}

/// Standard base64 with padding, as Omaha encodes digests.
func base64String(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
}
