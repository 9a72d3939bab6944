import Foundation
import Testing
import TestSupport
import Verification

@Suite struct SigningKeyTests {
    static let manifest = sampleManifest().canonicalBytes()

    /// A trust store holding just `publicKeyPEM`, in a directory of `scratch`.
    static func store(trusting publicKeyPEM: [UInt8], in scratch: Scratch) throws -> TrustStore {
        try scratch.write(publicKeyPEM, to: "keys.d/signer.pem")
        return try TrustStore(directories: [scratch.file("keys.d")])
    }

    static func preamble(_ signature: BundleSignature) -> BundlePreamble {
        BundlePreamble(manifest: sampleManifest(), signatures: [signature])
    }

    @Test(arguments: [KeyType.ed25519, .rsa(bits: 2048)])
    func generatedKeysAreReadableByOpenSSL(_ type: KeyType) throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        let key = try SigningKey.generate(type)
        #expect(key.keyType == type)
        try key.write(privateKeyFile: scratch.file("key.pem"), publicKeyFile: scratch.file("key.pub.pem"), overwrite: false)
        try OpenSSLTool.run("pkey", "-pubin", "-in", scratch.file("key.pub.pem"), "-noout")
        try OpenSSLTool.run("pkey", "-in", scratch.file("key.pem"), "-noout")
        let text = try OpenSSLTool.run("pkey", "-pubin", "-in", scratch.file("key.pub.pem"), "-noout", "-text")
        #expect(text.contains(type == .ed25519 ? "ED25519 Public-Key" : "Public-Key: (2048 bit)"))

        // The key ID is SHA-256 of the DER SubjectPublicKeyInfo.
        try OpenSSLTool.run("pkey", "-pubin", "-in", scratch.file("key.pub.pem"), "-outform", "DER", "-out", scratch.file("key.der"))
        #expect(key.keyID == (try OpenSSLTool.sha256(of: scratch.file("key.der"))))

        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.file("key.pem"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "the private key is readable by its owner only")
        #expect(scratch.contents == ["key.der", "key.pem", "key.pub.pem"], "no temporary files are left")

        let reloaded = try SigningKey(privateKeyPEMFile: scratch.file("key.pem"))
        #expect(reloaded.keyID == key.keyID && reloaded.publicKeyPEM() == key.publicKeyPEM())
    }

    @Test func a4096BitKeySignsAndVerifies() throws {
        let scratch = try Scratch()
        let key = try SigningKey.generate(.rsa(bits: 4096))
        let signature = try key.sign(manifest: SigningKeyTests.manifest)
        #expect(signature.algorithm == .rsaPSSSHA256 && signature.bytes.count == 512)
        let store = try SigningKeyTests.store(trusting: key.publicKeyPEM(), in: scratch)
        #expect(try store.verify(SigningKeyTests.preamble(signature)).signerKeyID == key.keyID)
    }

    @Test func keyFilesAreNotOverwrittenUnlessAsked() throws {
        let scratch = try Scratch()
        try scratch.write(Array("keep".utf8), to: "key.pub.pem")
        let key = try SigningKey.generate(.ed25519)
        #expect(throws: KeyError.fileExists(path: scratch.file("key.pub.pem"))) {
            try key.write(privateKeyFile: scratch.file("key.pem"), publicKeyFile: scratch.file("key.pub.pem"), overwrite: false)
        }
        #expect(scratch.contents == ["key.pub.pem"], "nothing is written when either file exists")
        try key.write(privateKeyFile: scratch.file("key.pem"), publicKeyFile: scratch.file("key.pub.pem"), overwrite: true)
        #expect(try scratch.read("key.pub.pem") == key.publicKeyPEM())
    }

    @Test func rsaSizesOutsideTheRangeAreRefused() throws {
        #expect(throws: KeyError.rsaSizeOutOfRange(bits: 1024)) { try SigningKey.generate(.rsa(bits: 1024)) }
        #expect(throws: KeyError.rsaSizeOutOfRange(bits: 8192)) { try SigningKey.generate(.rsa(bits: 8192)) }
    }

    @Test func keysMadeByOpenSSLAreAcceptedOrRefusedWithAReason() throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        try OpenSSLTool.run("genpkey", "-algorithm", "ed25519", "-out", scratch.file("ed.pem"))
        #expect(try SigningKey(privateKeyPEMFile: scratch.file("ed.pem")).keyType == .ed25519)
        try OpenSSLTool.run("genrsa", "-traditional", "-out", scratch.file("rsa.pem"), "3072")
        #expect(try SigningKey(privateKeyPEMFile: scratch.file("rsa.pem")).keyType == .rsa(bits: 3072))

        try OpenSSLTool.run("genrsa", "-out", scratch.file("weak.pem"), "1024")
        #expect(throws: KeyError.rsaSizeOutOfRange(bits: 1024)) { try SigningKey(privateKeyPEMFile: scratch.file("weak.pem")) }
        try OpenSSLTool.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", scratch.file("ec.pem"))
        #expect(throws: KeyError.unsupportedKeyType("EC")) { try SigningKey(privateKeyPEMFile: scratch.file("ec.pem")) }

        try OpenSSLTool.run("genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:secret", "-out", scratch.file("locked.pem"))
        #expect {
            try SigningKey(privateKeyPEMFile: scratch.file("locked.pem"))
        } throws: { error in
            guard case let .notAPrivateKey(source, _) = error as? KeyError else { return false }
            return source == scratch.file("locked.pem") && "\(error)".contains("openssl pkey -in KEY -out KEY.pem")
        }
        #expect(throws: KeyError.unreadableFile(path: scratch.file("absent.pem"), reason: "No such file or directory")) {
            try SigningKey(privateKeyPEMFile: scratch.file("absent.pem"))
        }
    }

    @Test func algorithmsMustFitTheKey() throws {
        let ed25519 = try SigningKey.generate(.ed25519)
        let rsa = try SigningKey.generate(.rsa(bits: 2048))
        #expect(ed25519.defaultAlgorithm == .ed25519 && rsa.defaultAlgorithm == .rsaPSSSHA256)
        #expect(throws: KeyError.algorithmMismatch(algorithm: .rsaPSSSHA256, keyType: .ed25519)) {
            try ed25519.sign(manifest: SigningKeyTests.manifest, algorithm: .rsaPSSSHA256)
        }
        #expect(throws: KeyError.algorithmMismatch(algorithm: .ed25519, keyType: .rsa(bits: 2048))) {
            try rsa.sign(manifest: SigningKeyTests.manifest, algorithm: .ed25519)
        }
    }

    // MARK: - Interoperability with the openssl CLI, in both directions

    struct OpenSSLCase: Sendable, CustomTestStringConvertible {
        var algorithm: SignatureAlgorithm
        var generate: [String]
        var sign: [String]
        var verify: [String]
        var testDescription: String { algorithm.name }
    }

    static let pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest", "-sigopt", "rsa_mgf1_md:sha256"]

    static let cliCases = [
        OpenSSLCase(algorithm: .ed25519, generate: ["genpkey", "-algorithm", "ed25519"],
                    sign: ["pkeyutl", "-sign", "-rawin", "-inkey", "KEY", "-in", "MSG", "-out", "SIG"],
                    verify: ["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", "PUB", "-in", "MSG", "-sigfile", "SIG"]),
        OpenSSLCase(algorithm: .rsaPKCS1SHA256, generate: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                    sign: ["dgst", "-sha256", "-sign", "KEY", "-out", "SIG", "MSG"],
                    verify: ["dgst", "-sha256", "-verify", "PUB", "-signature", "SIG", "MSG"]),
        OpenSSLCase(algorithm: .rsaPSSSHA256, generate: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                    sign: ["dgst", "-sha256", "-sign", "KEY"] + pss + ["-out", "SIG", "MSG"],
                    verify: ["dgst", "-sha256", "-verify", "PUB"] + pss + ["-signature", "SIG", "MSG"]),
    ]

    static func substitute(_ arguments: [String], in scratch: Scratch) -> [String] {
        let files = ["KEY": "key.pem", "PUB": "key.pub.pem", "MSG": "message", "SIG": "signature"]
        return ["openssl"] + arguments.map { files[$0].map(scratch.file) ?? $0 }
    }

    @Test(arguments: cliCases)
    func signaturesMadeByOpenSSLVerify(_ cli: OpenSSLCase) throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        try Shell.run(SigningKeyTests.substitute(cli.generate + ["-out", "KEY"], in: scratch))
        try OpenSSLTool.run("pkey", "-in", scratch.file("key.pem"), "-pubout", "-out", scratch.file("key.pub.pem"))
        try scratch.write(BundleSignature.signedMessage(manifest: SigningKeyTests.manifest), to: "message")
        try Shell.run(SigningKeyTests.substitute(cli.sign, in: scratch))

        let key = try SigningKey(privateKeyPEMFile: scratch.file("key.pem"))
        let signature = BundleSignature(keyID: key.keyID, algorithm: cli.algorithm, bytes: try scratch.read("signature"))
        let store = try SigningKeyTests.store(trusting: try scratch.read("key.pub.pem"), in: scratch)
        let verified = try store.verify(SigningKeyTests.preamble(signature))
        #expect(verified.signerKeyID == key.keyID && verified.signerKeyFile == scratch.file("keys.d/signer.pem"))
    }

    @Test(arguments: cliCases)
    func signaturesMadeByTandemVerifyInOpenSSL(_ cli: OpenSSLCase) throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        let key = try SigningKey.generate(cli.algorithm == .ed25519 ? .ed25519 : .rsa(bits: 2048))
        try key.write(privateKeyFile: scratch.file("key.pem"), publicKeyFile: scratch.file("key.pub.pem"), overwrite: false)
        let signature = try key.sign(manifest: SigningKeyTests.manifest, algorithm: cli.algorithm)
        #expect(signature.algorithm == cli.algorithm && signature.keyID == key.keyID)
        try scratch.write(BundleSignature.signedMessage(manifest: SigningKeyTests.manifest), to: "message")
        try scratch.write(signature.bytes, to: "signature")
        let output = try Shell.capture(SigningKeyTests.substitute(cli.verify, in: scratch))
        #expect(output.status == 0, "\(output.stderr)")

        try scratch.write(BundleSignature.signedMessage(manifest: SigningKeyTests.manifest) + [0], to: "message")
        #expect(try Shell.capture(SigningKeyTests.substitute(cli.verify, in: scratch)).status != 0,
                "the oracle rejects a signature over other bytes")
    }

    /// PSS is accepted with exactly one salt length, the digest's, and MGF1-SHA256.
    @Test func pssWithAnotherSaltLengthIsRejected() throws {
        try OpenSSLTool.require()
        let scratch = try Scratch()
        let key = try SigningKey.generate(.rsa(bits: 2048))
        try key.write(privateKeyFile: scratch.file("key.pem"), publicKeyFile: scratch.file("key.pub.pem"), overwrite: false)
        try scratch.write(BundleSignature.signedMessage(manifest: SigningKeyTests.manifest), to: "message")
        try OpenSSLTool.run("dgst", "-sha256", "-sign", scratch.file("key.pem"), "-sigopt", "rsa_padding_mode:pss",
                            "-sigopt", "rsa_pss_saltlen:max", "-out", scratch.file("signature"), scratch.file("message"))
        let signature = BundleSignature(keyID: key.keyID, algorithm: .rsaPSSSHA256, bytes: try scratch.read("signature"))
        let store = try SigningKeyTests.store(trusting: key.publicKeyPEM(), in: scratch)
        #expect(throws: VerificationError.badSignature(keyID: hexString(key.keyID), keyFile: scratch.file("keys.d/signer.pem"))) {
            try store.verify(SigningKeyTests.preamble(signature))
        }
    }

    /// The algorithm byte is not signed, so it must not be able to change how a key is used.
    @Test func theAlgorithmByteCannotSwitchSchemes() throws {
        let scratch = try Scratch()
        let rsa = try SigningKey.generate(.rsa(bits: 2048))
        let store = try SigningKeyTests.store(trusting: rsa.publicKeyPEM(), in: scratch)
        let keyFile = scratch.file("keys.d/signer.pem")
        var signature = try rsa.sign(manifest: SigningKeyTests.manifest, algorithm: .rsaPKCS1SHA256)
        #expect(try store.verify(SigningKeyTests.preamble(signature)).signerKeyID == rsa.keyID)
        signature.algorithm = .rsaPSSSHA256
        #expect(throws: VerificationError.badSignature(keyID: hexString(rsa.keyID), keyFile: keyFile)) {
            try store.verify(SigningKeyTests.preamble(signature))
        }
        signature.algorithm = .ed25519
        #expect(throws: VerificationError.wrongAlgorithm(keyID: hexString(rsa.keyID), keyFile: keyFile, algorithm: .ed25519,
                                                         keyType: .rsa(bits: 2048))) {
            try store.verify(SigningKeyTests.preamble(signature))
        }
    }
}
