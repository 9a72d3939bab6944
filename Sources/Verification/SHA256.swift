import COpenSSL

/// Incremental SHA-256 through OpenSSL's SHA-256 code, which uses the CPU's SHA extensions.
///
/// One context is created per hasher and reused for every chunk: neither `update` nor `reset`
/// allocates (see `tandem_sha256_init` in COpenSSL's shim for why not EVP). Not thread-safe;
/// the pipeline hands each hasher to exactly one thread at a time.
public final class SHA256: @unchecked Sendable {
    public static let digestLength = 32
    private let context = UnsafeMutablePointer<SHA256_CTX>.allocate(capacity: 1)

    public init() {
        reset()
    }

    deinit {
        context.deallocate()
    }

    /// Starts a new digest, discarding what was hashed so far.
    public func reset() {
        tandem_sha256_init(context)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        tandem_sha256_update(context, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed since the last reset. The context must be reset before reuse.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: SHA256.digestLength)
        finalize(into: &digest)
        return digest
    }

    /// The digest into `digest`, which must hold `digestLength` bytes: no allocation, for the
    /// hot path. The context must be reset before reuse.
    public func finalize(into digest: inout [UInt8]) {
        precondition(digest.count == SHA256.digestLength, "a SHA-256 digest is 32 bytes")
        digest.withUnsafeMutableBufferPointer { _ = tandem_sha256_final(context, $0.baseAddress) }
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
