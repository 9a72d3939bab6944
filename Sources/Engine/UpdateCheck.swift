import HTTP
import Slots
import Streaming
import Verification

/// Looks at a bundle source without installing it: fetches and verifies the signed manifest
/// (a few KiB; over HTTP only the preamble is transferred) and decides whether it is an update.
struct UpdateCheck {
    var trust: TrustStore
    var host: HostIdentity
    var http: HTTPOptions
    /// Ends the download and its waits between retries when the service stops.
    var cancellation: any TransferCancellation

    /// What a look at the source found, and how the check is recorded: an offer skipped because
    /// its version failed to boot here is `deferred`, as over Omaha (docs/cli-json.md), not
    /// "no update".
    struct Finding {
        var result: CheckResult
        var record: CheckRecord.Result
    }

    /// `force`: an offer of a quarantined version counts as an update.
    func run(source: String, pendingVersion: String?, quarantine: Quarantine, force: Bool) throws -> Finding {
        let bundle = try openBundle(source, http: http, cancellation: cancellation)
        let manifest = try trust.verify(try bundle.readPreamble()).manifest
        guard manifest.compatible == host.compatible else {
            throw InstallError.incompatible(bundle: manifest.compatible, host: host.compatible)
        }
        let none = { (message: String, record: CheckRecord.Result) in
            Finding(result: CheckResult(available: false, version: manifest.version, size: manifest.imageSize, message: message),
                    record: record)
        }
        let running = host.version.map(OSVersion.init)
        let offered = OSVersion(manifest.version)
        if let pendingVersion, offered <= OSVersion(pendingVersion) {
            return none(offered == OSVersion(pendingVersion)
                ? "version \(manifest.version) is already installed and waits for a reboot: updatectl reboot"
                : "no update: \(source) offers version \(manifest.version), older than \(pendingVersion), which is installed and waits for a reboot",
                .noUpdate)
        }
        if case let .refused(entry) = quarantine.verdict(for: manifest.version, force: force) {
            return none(Quarantine.skipped("no update: \(source) offers version \(manifest.version)", entry), .deferred)
        }
        if let running, offered <= running {
            return none("no update: \(source) offers version \(manifest.version) and this system runs \(running)", .noUpdate)
        }
        return Finding(result: CheckResult(available: true, version: manifest.version, size: manifest.imageSize,
                                           message: "version \(manifest.version) (\(manifest.imageSize) bytes) is available from \(source)"),
                       record: .updateAvailable)
    }
}
