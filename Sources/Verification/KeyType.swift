/// The kinds of key Tandem signs and verifies with.
public enum KeyType: Equatable, Sendable, CustomStringConvertible {
    case ed25519
    case rsa(bits: Int)

    /// Below 2048 bits RSA is too weak; above 4096 verification gets slow for no gain.
    public static let rsaBits = 2048...4096

    /// RSA keys sign with PSS unless asked otherwise: it has a security proof PKCS#1 v1.5 lacks.
    public var defaultAlgorithm: SignatureAlgorithm {
        switch self {
        case .ed25519: .ed25519
        case .rsa: .rsaPSSSHA256
        }
    }

    public var description: String {
        switch self {
        case .ed25519: "ed25519"
        case let .rsa(bits): "rsa-\(bits)"
        }
    }
}
