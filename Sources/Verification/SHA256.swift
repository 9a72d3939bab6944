import COpenSSL

/// Incremental SHA-256 through OpenSSL EVP, which uses the CPU's SHA extensions.
///
/// One context is created per image and reused for every chunk: `update` allocates nothing.
/// Not thread-safe; the pipeline hands it to exactly one thread at a time.
public final class SHA256: @unchecked Sendable {
    public static let digestLength = 32
    private let context: OpaquePointer

    public init() {
        // EVP_MD_CTX_new only fails when memory is exhausted, when nothing else could proceed either.
        guard let context = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context") }
        self.context = context
        reset()
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Starts a new digest, discarding what was hashed so far.
    public func reset() {
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed since the last reset. The context must be reset before reuse.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: SHA256.digestLength)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }

    /// The digest into `digest`, which must hold `digestLength` bytes: no allocation, for the
    /// hot path. The context must be reset before reuse.
    public func finalize(into digest: inout [UInt8]) {
        precondition(digest.count == SHA256.digestLength, "a SHA-256 digest is 32 bytes")
        var length: UInt32 = 0
        digest.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        let hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// Lowercase hexadecimal, as `sha256sum` and `openssl dgst` print digests.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// Parses lowercase or uppercase hexadecimal; nil for odd lengths or other characters.
public func bytes(fromHex text: String) -> [UInt8]? {
    let characters = Array(text.utf8)
    guard characters.count % 2 == 0 else { return nil }
    var result = [UInt8]()
    result.reserveCapacity(characters.count / 2)
    for index in stride(from: 0, to: characters.count, by: 2) {
        guard let high = hexValue(characters[index]), let low = hexValue(characters[index + 1]) else { return nil }
        result.append(high << 4 | low)
    }
    return result
}

private func hexValue(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
    default: nil
    }
}
