import ArgumentParser
import Verification

struct InspectBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a bundle's header, manifest and signatures, without verifying them.",
        discussion: "Use 'updatectl image verify' to check the signatures and the image."
    )

    @Argument(help: "The bundle to show.")
    var bundle: String

    @Flag(help: "Print JSON (schema tandem.bundle/1, see docs/cli-json.md).")
    var json = false

    func run() throws {
        let report = BundleReport(path: bundle, preamble: try BundleFile.readPreamble(path: bundle))
        print(json ? encodeJSON(report) : report.text)
    }
}
