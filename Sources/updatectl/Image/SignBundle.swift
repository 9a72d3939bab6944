import ArgumentParser
import Verification

struct SignBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Add a signature to a bundle, e.g. to roll over to a new key.",
        discussion: """
            Sign new bundles with both the old and the new key until every host trusts the new
            one, then revoke the old one. The image is checked against the manifest first; the
            bundle is rewritten atomically.
            """
    )

    @Argument(help: "The bundle to sign.")
    var bundle: String

    @Option(help: "The private key to sign with.")
    var key: String

    @Option(help: "ed25519, rsa-pss-sha256 or rsa-pkcs1v15-sha256 (default: ed25519 or rsa-pss-sha256, by key type).",
            transform: { name in
                guard let algorithm = SignatureAlgorithm(name: name) else {
                    throw ValidationError("use one of \(SignatureAlgorithm.allCases.map(\.name).joined(separator: ", "))")
                }
                return algorithm
            })
    var algorithm: SignatureAlgorithm?

    func run() throws {
        let signingKey = try SigningKey(privateKeyPEMFile: key)
        let preamble = try BundleWriter.addSignature(bundle: bundle, key: signingKey, algorithm: algorithm)
        let algorithm = algorithm ?? signingKey.defaultAlgorithm
        print("signed \(bundle) with \(hexString(signingKey.keyID)) (\(algorithm)); it now carries "
            + "\(preamble.signatures.count) signatures")
    }
}
