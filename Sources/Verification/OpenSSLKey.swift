import COpenSSL

/// The only file that calls OpenSSL's key API: generating, reading and writing keys, and
/// making and checking signatures. Each instance owns one EVP_PKEY and frees it on release.
///
/// Sendable because the EVP_PKEY is never changed after it is made, and OpenSSL 3 allows one
/// key to sign or verify on several threads at once (each operation has its own context).
final class OpenSSLKey: @unchecked Sendable {
    private let key: OpaquePointer

    private init(owning key: OpaquePointer) {
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    static func generate(_ type: KeyType) throws(KeyError) -> OpenSSLKey {
        let (id, rsaBits): (Int32, Int?) = switch type {
        case .ed25519: (EVP_PKEY_ED25519, nil)
        case let .rsa(bits): (EVP_PKEY_RSA, bits)
        }
        guard let context = EVP_PKEY_CTX_new_id(id, nil) else { throw failure("creating a key-generation context") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) > 0 else { throw failure("starting key generation") }
        if let rsaBits, EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(rsaBits)) <= 0 {
            throw failure("setting the RSA key size to \(rsaBits) bits")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen(context, &key) > 0, let key else { throw failure("generating a \(type) key") }
        return OpenSSLKey(owning: key)
    }

    /// Reads the first private key in `pem`. An encrypted key fails rather than prompting for
    /// a passphrase on the terminal, which OpenSSL would do without a callback.
    static func privateKey(pem: [UInt8], source: String) throws(KeyError) -> OpenSSLKey {
        guard let key = withMemoryBIO(pem, { PEM_read_bio_PrivateKey($0, nil, refusePassphrase, nil) }) else {
            throw .notAPrivateKey(source: source, detail: drainErrors())
        }
        return OpenSSLKey(owning: key)
    }

    static func publicKey(pem: [UInt8], source: String) throws(KeyError) -> OpenSSLKey {
        guard let key = withMemoryBIO(pem, { PEM_read_bio_PUBKEY($0, nil, refusePassphrase, nil) }) else {
            throw .notAPublicKey(source: source, detail: drainErrors())
        }
        return OpenSSLKey(owning: key)
    }

    /// The key's type, or nil for types Tandem does not use (`typeName` names them).
    var type: KeyType? {
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_ED25519: .ed25519
        case EVP_PKEY_RSA: .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        default: nil
        }
    }

    var typeName: String {
        EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
    }

    /// The key's type if Tandem signs and verifies with keys like it, else why not.
    func acceptedType() throws(KeyError) -> KeyType {
        guard let type else { throw .unsupportedKeyType(typeName) }
        if case let .rsa(bits) = type, !KeyType.rsaBits.contains(bits) { throw .rsaSizeOutOfRange(bits: bits) }
        return type
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo (`i2d_PUBKEY`), the same for the private key
    /// and for its public half, whatever PEM flavour either was stored in.
    func keyID() throws(KeyError) -> [UInt8] {
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else { throw OpenSSLKey.failure("encoding the public key") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(key, &cursor)
        }
        guard written == length else { throw OpenSSLKey.failure("encoding the public key") }
        return SHA256.hash(der)
    }

    func publicKeyPEM() throws(KeyError) -> [UInt8] {
        try writeToMemory("encoding the public key as PEM") { PEM_write_bio_PUBKEY($0, key) }
    }

    /// PKCS#8, unencrypted: the key file's mode is what protects it.
    func privateKeyPEM() throws(KeyError) -> [UInt8] {
        try writeToMemory("encoding the private key as PEM") { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    func sign(_ message: [UInt8], algorithm: SignatureAlgorithm) throws(KeyError) -> [UInt8] {
        let type = try acceptedType()
        guard algorithm.fits(type) else { throw .algorithmMismatch(algorithm: algorithm, keyType: type) }
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLKey.failure("creating a signing context") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestSignInit(context, &keyContext, algorithm.digest, nil, key) == 1,
              OpenSSLKey.configure(keyContext, for: algorithm)
        else {
            throw OpenSSLKey.failure("starting a \(algorithm) signature")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw OpenSSLKey.failure("sizing a \(algorithm) signature")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw OpenSSLKey.failure("making a \(algorithm) signature")
        }
        return Array(signature.prefix(length))
    }

    /// False for a signature that does not verify, and for an algorithm that does not fit the
    /// key: the algorithm byte comes from the bundle and must not choose how a key is used.
    func verify(_ signature: [UInt8], over message: [UInt8], algorithm: SignatureAlgorithm) -> Bool {
        guard let type, algorithm.fits(type), let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            // A failed check leaves errors queued; they must not appear in a later message.
            ERR_clear_error()
        }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, algorithm.digest, nil, key) == 1,
              OpenSSLKey.configure(keyContext, for: algorithm)
        else {
            return false
        }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    /// RSA padding for the algorithm; PSS fixes the salt to the digest length and MGF1 to
    /// SHA-256, both when signing and when verifying, so that only one PSS variant is accepted.
    private static func configure(_ context: OpaquePointer?, for algorithm: SignatureAlgorithm) -> Bool {
        switch algorithm {
        case .ed25519:
            true
        case .rsaPKCS1SHA256:
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) > 0
        case .rsaPSSSHA256:
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) > 0
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) > 0
                && EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()) > 0
        }
    }

    private func writeToMemory(_ operation: String, _ write: (OpaquePointer) -> Int32) throws(KeyError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLKey.failure(operation) }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw OpenSSLKey.failure(operation) }
        // BIO_get_mem_data is a macro Swift cannot call; read the buffer out instead.
        let pending = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: pending)
        guard BIO_read(bio, &bytes, Int32(pending)) == Int32(pending) else { throw OpenSSLKey.failure(operation) }
        return bytes
    }

    private static func withMemoryBIO(_ bytes: [UInt8], _ body: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
        bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    private static func failure(_ operation: String) -> KeyError {
        .openSSL(operation: operation, detail: drainErrors())
    }

    /// Empties OpenSSL's per-thread error queue into one line.
    private static func drainErrors() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no detail from OpenSSL" : messages.joined(separator: "; ")
    }
}

/// The passphrase callback: always "no passphrase", so reading an encrypted key fails at once.
private let refusePassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
    _, _, _, _ in -1
}

private extension SignatureAlgorithm {
    /// Ed25519 hashes internally and takes no separate digest.
    var digest: OpaquePointer? {
        self == .ed25519 ? nil : EVP_sha256()
    }
}
