import FoundationEssentials
import Platform

/// What the running system is, for the manifest's `compatible` and `min-version` checks.
public struct HostIdentity: Sendable, Equatable {
    /// The board or OS id bundles must name in `compatible`.
    public var compatible: String
    /// The version running now; nil when unknown, which fails any `min-version` requirement.
    public var version: String?

    public init(compatible: String, version: String?) {
        self.compatible = compatible
        self.version = version
    }

    /// From os-release: `TANDEM_COMPATIBLE` when the image sets it, else `ID`; and `VERSION_ID`.
    public static func fromOSRelease(_ path: String = "/etc/os-release") -> HostIdentity? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            let value = String(line[line.index(after: equals)...]).removingMatchingQuotes()
            fields[String(line[..<equals])] = value
        }
        guard let compatible = fields["TANDEM_COMPATIBLE"] ?? fields["ID"] else { return nil }
        return HostIdentity(compatible: compatible, version: fields["VERSION_ID"])
    }
}
