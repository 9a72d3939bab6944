/// Why a bundle's manifest cannot be trusted, or the trust store cannot be loaded. Key IDs
/// are lowercase hex, as in revocation files and `updatectl image inspect`.
public enum VerificationError: Error, Equatable, CustomStringConvertible {
    case noTrustedKeys(directories: [String])
    case unsigned
    case unknownSigners(keyIDs: [String], directories: [String])
    case revokedKey(keyID: String, keyFile: String?)
    case untrustedKey(keyID: String, keyFile: String, reason: String)
    case wrongAlgorithm(keyID: String, keyFile: String, algorithm: SignatureAlgorithm, keyType: KeyType)
    case badSignature(keyID: String, keyFile: String)
    case sizeMismatch(header: UInt64, manifest: UInt64)
    case unreadableKey(path: String, detail: String)
    case unreadableDirectory(path: String, reason: String)
    case badRevocationList(path: String, detail: String)

    public var description: String {
        switch self {
        case let .noTrustedKeys(directories):
            return "no trusted public keys in \(directories.joined(separator: " or ")); install the signer's "
                + "public key there as NAME.pem (updatectl image keygen makes key pairs)"
        case .unsigned:
            return "the bundle carries no signatures; sign it with 'updatectl image sign BUNDLE --key KEY.pem'"
        case let .unknownSigners(keyIDs, directories):
            return "the bundle is signed only by unknown keys \(keyIDs.joined(separator: ", ")); if you trust the "
                + "signer, install its public key in \(directories.first ?? "the key directory") as NAME.pem; "
                + "otherwise do not install this bundle"
        case let .revokedKey(keyID, keyFile):
            let file = keyFile.map { " (\($0))" } ?? ""
            return "the bundle is signed only by revoked key \(keyID)\(file); get a bundle signed by a current key"
        case let .untrustedKey(keyID, keyFile, reason):
            return "the bundle is signed by key \(keyID) from \(keyFile), which is not trusted: \(reason); "
                + "replace that key file with an ed25519 or RSA 2048-4096 public key"
        case let .wrongAlgorithm(keyID, keyFile, algorithm, keyType):
            return "the signature by key \(keyID) (\(keyFile)) claims algorithm \(algorithm), which \(keyType) keys "
                + "cannot make; the bundle was tampered with or damaged; fetch it again and do not install this copy"
        case let .badSignature(keyID, keyFile):
            return "the signature by trusted key \(keyID) (\(keyFile)) does not verify: the manifest or the signature "
                + "was tampered with or damaged; fetch the bundle again and do not install this copy"
        case let .sizeMismatch(header, manifest):
            return "the bundle header gives an image length of \(header) bytes, but the signed manifest says "
                + "\(manifest); the header was tampered with or damaged; fetch the bundle again"
        case let .unreadableKey(path, detail):
            return "cannot use the trusted key file \(path): \(detail); fix or remove it (an empty file of the same "
                + "name in an earlier key directory masks it)"
        case let .unreadableDirectory(path, reason):
            return "cannot list the key directory \(path): \(reason); check its permissions"
        case let .badRevocationList(path, detail):
            return "the revocation list \(path) \(detail); each line holds one key ID (64 lowercase hex digits) or "
                + "a # comment; fix it: a revocation that cannot be read is not ignored"
        }
    }
}
