import Platform
import SystemPackage

/// The public keys a host trusts to sign bundles, and the keys it has revoked.
///
/// Key directories work like systemd drop-ins: a `NAME.pem` in an earlier directory replaces
/// the same name in a later one, and an empty file (or a symlink to /dev/null) masks it. So an
/// administrator overrides vendor keys in /etc without touching /usr. Revocations are the
/// union of every directory's `revoked` file: an earlier directory must not be able to undo
/// a revocation, so those files never mask each other.
public struct TrustStore: Sendable {
    public static let defaultDirectories = ["/etc/tandem/keys.d", "/usr/share/tandem/keys.d"]
    public static let revocationFileName = "revoked"
    /// A PEM public key is well under 1 KiB; this only stops a stray large file.
    private static let maximumFileSize = 64 << 10

    private struct Key: Sendable {
        enum Status: Sendable {
            case trusted(OpenSSLKey, KeyType)
            /// Readable, but of a type or size Tandem does not accept.
            case rejected(String)
        }

        var id: [UInt8]
        var file: String
        var status: Status
    }

    public let directories: [String]
    private var keys: [Key] = []
    private var revoked: Set<[UInt8]> = []

    /// Loads every directory; missing ones are skipped. A key file or revocation list that
    /// cannot be read fails the whole store, because ignoring it could trust a key the
    /// administrator meant to mask or revoke.
    public init(directories: [String] = TrustStore.defaultDirectories) throws(VerificationError) {
        self.directories = directories
        var keyFiles: [(name: String, path: String)] = []
        for directory in directories {
            let names: [String]
            do {
                names = try FilePath(directory).directoryEntries()
            } catch .noSuchFileOrDirectory {
                continue
            } catch {
                throw .unreadableDirectory(path: directory, reason: error.description)
            }
            for name in names {
                let path = directory + "/" + name
                if name == TrustStore.revocationFileName {
                    revoked.formUnion(try TrustStore.revocations(path))
                } else if name.hasSuffix(".pem"), !keyFiles.contains(where: { $0.name == name }) {
                    keyFiles.append((name, path))
                }
            }
        }
        for (_, path) in keyFiles.sorted(by: { $0.name < $1.name }) {
            if let key = try TrustStore.load(path), !keys.contains(where: { $0.id == key.id }) {
                keys.append(key)
            }
        }
    }

    /// Keys that can verify a bundle: loaded, of an accepted type, and not revoked.
    public var keyIDs: [[UInt8]] {
        keys.filter { key in
            if case .trusted = key.status { return !revoked.contains(key.id) }
            return false
        }.map(\.id)
    }

    public var revokedKeyIDs: [[UInt8]] {
        revoked.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Succeeds when at least one signature by a trusted, non-revoked key verifies over the
    /// manifest, and the header agrees with the manifest. No certificate expiry or wall clock
    /// is involved, so a host with a wrong clock still updates. When nothing verifies, the
    /// error is the most alarming reason found: a trusted key's failed signature (tampering)
    /// before a revoked key, before an unacceptable key, before keys that are merely unknown.
    public func verify(_ preamble: BundlePreamble) throws(VerificationError) -> VerifiedManifest {
        guard !preamble.signatures.isEmpty else { throw .unsigned }
        let message = BundleSignature.signedMessage(manifest: preamble.manifestBytes)
        var failures: [VerificationError] = []
        var unknown: [String] = []
        for signature in preamble.signatures {
            let id = hexString(signature.keyID)
            let key = keys.first { $0.id == signature.keyID }
            if revoked.contains(signature.keyID) {
                failures.append(.revokedKey(keyID: id, keyFile: key?.file))
                continue
            }
            guard let key else {
                unknown.append(id)
                continue
            }
            switch key.status {
            case let .rejected(reason):
                failures.append(.untrustedKey(keyID: id, keyFile: key.file, reason: reason))
            case let .trusted(publicKey, type):
                guard signature.algorithm.fits(type) else {
                    failures.append(.wrongAlgorithm(keyID: id, keyFile: key.file, algorithm: signature.algorithm, keyType: type))
                    continue
                }
                guard publicKey.verify(signature.bytes, over: message, algorithm: signature.algorithm) else {
                    failures.append(.badSignature(keyID: id, keyFile: key.file))
                    continue
                }
                // The header is not signed: its image length is only believed when it matches.
                guard preamble.header.imageLength == preamble.manifest.imageSize else {
                    throw .sizeMismatch(header: preamble.header.imageLength, manifest: preamble.manifest.imageSize)
                }
                return VerifiedManifest(manifest: preamble.manifest, signerKeyID: signature.keyID, signerKeyFile: key.file)
            }
        }
        if let worst = failures.max(by: { TrustStore.severity($0) < TrustStore.severity($1) }) { throw worst }
        if keyIDs.isEmpty { throw .noTrustedKeys(directories: directories) }
        throw .unknownSigners(keyIDs: unknown, directories: directories)
    }

    private static func severity(_ failure: VerificationError) -> Int {
        switch failure {
        case .badSignature, .wrongAlgorithm: 3
        case .revokedKey: 2
        default: 1
        }
    }

    /// A key file's key, or nil when the file is empty, which masks the name.
    private static func load(_ path: String) throws(VerificationError) -> Key? {
        let pem: [UInt8]
        do {
            pem = try FileDescriptor.contents(of: FilePath(path), limit: maximumFileSize)
        } catch {
            throw .unreadableKey(path: path, detail: error.description)
        }
        if pem.isEmpty { return nil }
        do {
            let key = try OpenSSLKey.publicKey(pem: pem, source: path)
            let id = try key.keyID()
            do {
                return Key(id: id, file: path, status: .trusted(key, try key.acceptedType()))
            } catch {
                return Key(id: id, file: path, status: .rejected(error.description))
            }
        } catch {
            throw .unreadableKey(path: path, detail: error.description)
        }
    }

    /// Key IDs from a revocation file: one per line, `#` starts a comment, blank lines are skipped.
    private static func revocations(_ path: String) throws(VerificationError) -> [[UInt8]] {
        let text: [UInt8]
        do {
            text = try FileDescriptor.contents(of: FilePath(path), limit: 1 << 20)
        } catch {
            throw .badRevocationList(path: path, detail: "cannot be read: \(error.description)")
        }
        var ids: [[UInt8]] = []
        for (index, rawLine) in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let content = rawLine.prefix { $0 != UInt8(ascii: "#") }
            let line = String(decoding: content, as: UTF8.self).trimmingWhitespace()
            if line.isEmpty { continue }
            guard line.utf8.count == 2 * BundleSignature.keyIDLength, line == line.lowercased(),
                  let id = Verification.bytes(fromHex: line)
            else {
                throw .badRevocationList(path: path, detail: "has '\(line)' on line \(index + 1), which is not a key ID")
            }
            ids.append(id)
        }
        return ids
    }
}
