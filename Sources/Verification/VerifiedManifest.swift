/// A manifest whose signature by a trusted, unrevoked key checked out, and whose header
/// agrees with it. Only `TrustStore.verify` makes one.
public struct VerifiedManifest: Sendable {
    public let manifest: Manifest
    public let signerKeyID: [UInt8]
    /// The trusted key file that verified the signature.
    public let signerKeyFile: String
}
