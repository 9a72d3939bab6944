import ArgumentParser
import Verification

struct VerifyBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a bundle's signatures against the trusted keys, and its image and boot artifacts against the manifest.",
        discussion: "Prints who signed it and OK, or exits 1 with the reason."
    )

    @Argument(help: "The bundle to check.")
    var bundle: String

    @Option(name: .customLong("keys"), help: ArgumentHelp(
        "A key directory; repeat for several, earlier ones overriding later ones.",
        discussion: "Default: \(TrustStore.defaultDirectories.joined(separator: ", then "))."))
    var keyDirectories: [String] = []

    func run() throws {
        let preamble = try BundleFile.readPreamble(path: bundle)
        let trust = try TrustStore(directories: keyDirectories.isEmpty ? TrustStore.defaultDirectories : keyDirectories)
        let verified = try trust.verify(preamble)
        try BundleFile.verifyImage(path: bundle, preamble: preamble)
        try BundleFile.verifyArtifacts(path: bundle, preamble: preamble)
        let manifest = verified.manifest
        print("signed by \(hexString(verified.signerKeyID)) (\(verified.signerKeyFile))")
        print("version \(manifest.version) for \(manifest.compatible), image \(manifest.imageSize) bytes, "
            + "sha256 \(hexString(manifest.imageSHA256))")
        for artifact in manifest.artifacts {
            print("\(artifact.kind.rawValue) \(artifact.size) bytes, sha256 \(hexString(artifact.sha256))")
        }
        print("OK")
    }
}
