/// How a bundle signature was made. The raw value is the algorithm byte of the signature block.
public enum SignatureAlgorithm: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case ed25519 = 1
    case rsaPKCS1SHA256 = 2
    /// RSA-PSS with SHA-256, MGF1-SHA256 and a salt as long as the digest (32 bytes).
    case rsaPSSSHA256 = 3

    /// The name used on the command line and in JSON output.
    public var name: String {
        switch self {
        case .ed25519: "ed25519"
        case .rsaPKCS1SHA256: "rsa-pkcs1v15-sha256"
        case .rsaPSSSHA256: "rsa-pss-sha256"
        }
    }

    public init?(name: String) {
        guard let match = SignatureAlgorithm.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { name }

    /// Whether a key of `type` can make and check signatures of this kind. An algorithm byte
    /// is never trusted to pick how a key is used: an RSA key only accepts RSA algorithms.
    public func fits(_ type: KeyType) -> Bool {
        switch (self, type) {
        case (.ed25519, .ed25519), (.rsaPKCS1SHA256, .rsa), (.rsaPSSSHA256, .rsa): true
        default: false
        }
    }
}
