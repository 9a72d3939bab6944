/// Why a key could not be generated, read, written or used to sign.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case notAPrivateKey(source: String, detail: String)
    case notAPublicKey(source: String, detail: String)
    case unsupportedKeyType(String)
    case rsaSizeOutOfRange(bits: Int)
    case algorithmMismatch(algorithm: SignatureAlgorithm, keyType: KeyType)
    case fileExists(path: String)
    case cannotWrite(path: String, reason: String)
    case openSSL(operation: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason); check the path and its permissions"
        case let .notAPrivateKey(source, detail):
            return "\(source) is not an unencrypted PEM private key (\(detail)); make one with "
                + "'updatectl image keygen', or decrypt it with 'openssl pkey -in KEY -out KEY.pem'"
        case let .notAPublicKey(source, detail):
            return "\(source) is not a PEM public key (BEGIN PUBLIC KEY) (\(detail)); "
                + "extract it from the private key with 'openssl pkey -in KEY -pubout'"
        case let .unsupportedKeyType(name):
            return "\(name) keys are not supported; use an ed25519 key or an RSA key of "
                + "\(KeyType.rsaBits.lowerBound) to \(KeyType.rsaBits.upperBound) bits"
        case let .rsaSizeOutOfRange(bits):
            return "the RSA key has \(bits) bits; Tandem accepts \(KeyType.rsaBits.lowerBound) to "
                + "\(KeyType.rsaBits.upperBound) bits; make a new key with 'updatectl image keygen --type rsa --bits 3072'"
        case let .algorithmMismatch(algorithm, keyType):
            let fitting = SignatureAlgorithm.allCases.filter { $0.fits(keyType) }.map(\.name).joined(separator: " or ")
            return "\(keyType) keys cannot make \(algorithm) signatures; use \(fitting)"
        case let .fileExists(path):
            return "\(path) already exists; remove it or pass --force to replace it"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason); check that its directory exists and is writable"
        case let .openSSL(operation, detail):
            return "OpenSSL failed \(operation): \(detail)"
        }
    }
}
