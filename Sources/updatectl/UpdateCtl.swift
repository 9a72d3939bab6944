import ArgumentParser

@main
struct UpdateCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "updatectl",
        abstract: "Control Tandem, the A/B partition image updater.",
        discussion: """
            The disk commands work offline on a disk or disk-image file, for image builders, provisioning and tests: they show and change the slots' GPT boot flags and install signed bundles. The image commands make signing keys and signed bundles.

            Exit status: 0 on success, 1 on failure, 64 on a usage error.
            """,
        subcommands: [DiskCommand.self, ImageCommand.self]
    )
}
