/// An update the server offers: what an `ok` response says, checked.
public struct OmahaUpdate: Hashable, Sendable {
    /// The first `<app>`'s `appid`, as the server sent it (Nebraska drops the braces). It is not
    /// compared with the request's, as update_engine does not.
    public var appID: String?
    /// `manifest@version`: the version the update installs.
    public var version: String
    /// Where to download the payload, in the server's order: each codebase with the package name.
    public var urls: [String]
    /// The first package's `name`; the server may list more (extensions, OEM), which are not ours.
    public var packageName: String
    /// The payload's size in bytes.
    public var size: UInt64
    /// The SHA-256 of the whole payload (the postinstall action's `sha256`, decoded).
    public var sha256: [UInt8]
    /// `PollInterval`: seconds until the server wants the next check, if it said.
    public var pollInterval: Int?
    /// `MaxFailureCountPerUrl`: transient failures to tolerate before the next URL (default 10).
    public var maxFailureCountPerURL: Int
    /// `DisablePayloadBackoff="true"`: retry failed downloads without update_engine's growing delay.
    public var disablePayloadBackoff: Bool

    public init(appID: String?, version: String, urls: [String], packageName: String, size: UInt64, sha256: [UInt8],
                pollInterval: Int?, maxFailureCountPerURL: Int, disablePayloadBackoff: Bool) {
        self.appID = appID
        self.version = version
        self.urls = urls
        self.packageName = packageName
        self.size = size
        self.sha256 = sha256
        self.pollInterval = pollInterval
        self.maxFailureCountPerURL = maxFailureCountPerURL
        self.disablePayloadBackoff = disablePayloadBackoff
    }
}
