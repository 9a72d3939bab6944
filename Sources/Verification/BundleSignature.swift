/// One signature over a bundle's manifest, as stored in the signature block.
public struct BundleSignature: Equatable, Sendable {
    public static let keyIDLength = SHA256.digestLength
    /// Prepended to the manifest before signing, so that a signature over a manifest can never
    /// be replayed as a signature over anything else the same key signs.
    public static let domainPrefix: [UInt8] = Array("tandem-bundle-manifest-v1\n".utf8)

    /// SHA-256 of the signer's public key in DER SubjectPublicKeyInfo form.
    public var keyID: [UInt8]
    public var algorithm: SignatureAlgorithm
    public var bytes: [UInt8]

    public init(keyID: [UInt8], algorithm: SignatureAlgorithm, bytes: [UInt8]) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// The exact bytes a signature covers: the domain prefix, then the manifest as stored.
    public static func signedMessage(manifest: [UInt8]) -> [UInt8] {
        domainPrefix + manifest
    }

    /// The signature block: a count, then key ID, algorithm, length and bytes of each.
    public static func serializeBlock(_ signatures: [BundleSignature]) -> [UInt8] {
        var block: [UInt8] = []
        block.appendLittleEndian(UInt32(signatures.count))
        for signature in signatures {
            block += signature.keyID
            block.append(signature.algorithm.rawValue)
            block.appendLittleEndian(UInt16(signature.bytes.count))
            block += signature.bytes
        }
        return block
    }

    /// Parses a signature block, which must be consumed exactly. A key may sign only once.
    public static func parseBlock(_ block: ArraySlice<UInt8>) throws(BundleError) -> [BundleSignature] {
        var reader = ByteReader(block)
        guard let count: UInt32 = reader.integer() else {
            throw .malformedSignatures("it is \(block.count) bytes long, too short for the signature count; "
                + "the file is damaged; fetch the bundle again")
        }
        var signatures: [BundleSignature] = []
        for index in 0..<Int(count) {
            let number = index + 1
            guard let keyID = reader.take(keyIDLength), let code: UInt8 = reader.integer(),
                  let length: UInt16 = reader.integer(), let bytes = reader.take(Int(length))
            else {
                throw .malformedSignatures("it ends inside signature \(number) of \(count); the file is damaged; "
                    + "fetch the bundle again")
            }
            guard let algorithm = SignatureAlgorithm(rawValue: code) else {
                let known = SignatureAlgorithm.allCases.map { "\($0.rawValue) (\($0.name))" }.joined(separator: ", ")
                throw .malformedSignatures("signature \(number) uses algorithm \(code); this Tandem knows \(known); "
                    + "update Tandem")
            }
            guard !signatures.contains(where: { $0.keyID == keyID }) else {
                throw .malformedSignatures("key \(hexString(keyID)) signed more than once; the bundle was not made "
                    + "by updatectl; rebuild it with 'updatectl image create'")
            }
            signatures.append(BundleSignature(keyID: keyID, algorithm: algorithm, bytes: bytes))
        }
        guard reader.remaining == 0 else {
            throw .malformedSignatures("\(reader.remaining) bytes are left over after its \(count) signatures; "
                + "the file is damaged; fetch the bundle again")
        }
        return signatures
    }
}
