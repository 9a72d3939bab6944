import Platform
import SystemPackage

/// A private key that signs bundle manifests: made by `updatectl image keygen`, kept on the
/// build or signing machine, never on the hosts that install updates.
public final class SigningKey: Sendable {
    public let keyType: KeyType
    /// SHA-256 of the public key's DER SubjectPublicKeyInfo, as recorded in signatures and
    /// listed in revocation files.
    public let keyID: [UInt8]
    private let key: OpenSSLKey
    // Encoded once, so that handing them out cannot fail.
    private let privatePEM: [UInt8]
    private let publicPEM: [UInt8]

    private init(_ key: OpenSSLKey) throws(KeyError) {
        keyType = try key.acceptedType()
        keyID = try key.keyID()
        privatePEM = try key.privateKeyPEM()
        publicPEM = try key.publicKeyPEM()
        self.key = key
    }

    /// A new key; RSA sizes outside `KeyType.rsaBits` are refused.
    public static func generate(_ type: KeyType) throws(KeyError) -> SigningKey {
        if case let .rsa(bits) = type, !KeyType.rsaBits.contains(bits) { throw .rsaSizeOutOfRange(bits: bits) }
        return try SigningKey(OpenSSLKey.generate(type))
    }

    /// Reads an unencrypted PEM private key (PKCS#8 or traditional RSA); `source` names it in errors.
    public convenience init(privateKeyPEM: [UInt8], source: String = "the private key") throws(KeyError) {
        try self.init(OpenSSLKey.privateKey(pem: privateKeyPEM, source: source))
    }

    public convenience init(privateKeyPEMFile path: String) throws(KeyError) {
        let pem: [UInt8]
        do {
            pem = try FileDescriptor.contents(of: FilePath(path), limit: 1 << 20)
        } catch {
            throw .unreadableFile(path: path, reason: error.description)
        }
        try self.init(privateKeyPEM: pem, source: path)
    }

    public var defaultAlgorithm: SignatureAlgorithm { keyType.defaultAlgorithm }

    /// PKCS#8 PEM, unencrypted.
    public func privateKeyPEM() -> [UInt8] { privatePEM }

    /// SubjectPublicKeyInfo PEM (BEGIN PUBLIC KEY), the form trust stores hold.
    public func publicKeyPEM() -> [UInt8] { publicPEM }

    /// Signs the domain prefix followed by `manifest`, the manifest bytes exactly as stored.
    public func sign(manifest: [UInt8], algorithm: SignatureAlgorithm? = nil) throws(KeyError) -> BundleSignature {
        let algorithm = algorithm ?? defaultAlgorithm
        let bytes = try key.sign(BundleSignature.signedMessage(manifest: manifest), algorithm: algorithm)
        return BundleSignature(keyID: keyID, algorithm: algorithm, bytes: bytes)
    }

    /// Writes the private key with mode 0600 and the public key with mode 0644, each file
    /// atomically. Without `overwrite`, nothing is written when either file exists.
    public func write(privateKeyFile: String, publicKeyFile: String, overwrite: Bool) throws(KeyError) {
        if !overwrite {
            for path in [privateKeyFile, publicKeyFile] where (try? FilePath(path).stat()) != nil {
                throw .fileExists(path: path)
            }
        }
        let files: [(String, [UInt8], FilePermissions)] = [
            (privateKeyFile, privatePEM, [.ownerReadWrite]),
            (publicKeyFile, publicPEM, [.ownerReadWrite, .groupRead, .otherRead]),
        ]
        for (path, bytes, permissions) in files {
            do {
                // Created with mkstemp's mode 0600, so the private key is never readable by others.
                let replacement = try ReplacementFile(destination: FilePath(path), permissions: permissions)
                try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, bytes)
                try replacement.commit(replacing: overwrite)
            } catch {
                throw error == .fileExists ? .fileExists(path: path) : .cannotWrite(path: path, reason: error.description)
            }
        }
    }
}
