import ArgumentParser
import Verification

struct GenerateKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a signing key pair.",
        discussion: """
            The private key stays on the machine that builds or signs bundles. The public key
            goes into the hosts' key directory, e.g. /etc/tandem/keys.d/NAME.pem.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case ed25519, rsa
    }

    @Option(name: .customLong("private"), help: "Where to write the private key (mode 0600).")
    var privateKey: String

    @Option(name: .customLong("public"), help: "Where to write the public key (mode 0644).")
    var publicKey: String

    @Option(help: "ed25519 or rsa.")
    var type: Kind = .ed25519

    @Option(help: "RSA key size, 2048-4096 bits (default 3072).")
    var bits: Int?

    @Flag(help: "Replace existing key files.")
    var force = false

    func validate() throws {
        guard let bits else { return }
        guard type == .rsa else { throw ValidationError("--bits applies only to --type rsa") }
        guard KeyType.rsaBits.contains(bits) else {
            throw ValidationError("--bits must be \(KeyType.rsaBits.lowerBound)-\(KeyType.rsaBits.upperBound), not \(bits)")
        }
    }

    func run() throws {
        let key = try SigningKey.generate(type == .rsa ? .rsa(bits: bits ?? 3072) : .ed25519)
        try key.write(privateKeyFile: privateKey, publicKeyFile: publicKey, overwrite: force)
        print("wrote \(key.keyType) private key \(privateKey) and public key \(publicKey)")
        print("key ID \(hexString(key.keyID))")
    }
}
