import ArgumentParser

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Make, sign, verify and inspect update bundles (format: docs/bundle-format.md).",
        discussion: """
            A bundle is one file: a header, a signed manifest describing the image, the
            signatures, and the raw slot image. Hosts trust the public keys in
            /etc/tandem/keys.d and /usr/share/tandem/keys.d.
            """,
        subcommands: [GenerateKey.self, CreateBundle.self, SignBundle.self, VerifyBundle.self, InspectBundle.self, DiffBundles.self]
    )
}
