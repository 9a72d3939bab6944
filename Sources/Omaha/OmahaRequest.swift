/// One request to an Omaha server, with the same fields update_engine sends, so that Nebraska
/// and other Flatcar update servers see a familiar client.
public struct OmahaRequest: Hashable, Sendable {
    /// What the `<app>` element carries besides its attributes.
    public enum Body: Hashable, Sendable {
        /// A check for an update: a ping, the update check, and the `3/2` event that tells the
        /// server which version ran before this one (`0.0.0.0` when unknown, `""` after the first
        /// check since the last update, as update_engine sends).
        case updateCheck(previousVersion: String)
        /// A check for an update after a rollback (the version that runs is the one that was
        /// updated from): the event is `3/0` with error code 44 instead.
        case updateCheckAfterRollback
        /// A ping only, which keeps the machine listed while it waits for a reboot.
        case ping
        /// One event, reporting a step of an update.
        case event(OmahaEvent)
    }

    /// `installsource`: whether someone asked for the check, or the schedule did.
    public enum InstallSource: String, Hashable, Sendable {
        case onDemand = "ondemandupdate"
        case scheduler
    }

    /// What Tandem calls itself in `version` and `updaterversion`. Never update_engine's old
    /// `CoreOSUpdateEngine-0.1.0.0`: Nebraska takes a client with that version for its syncer
    /// and may send it responses no machine can install.
    public static let defaultClientVersion = "tandem-0.1.0"

    public var clientVersion: String
    public var installSource: InstallSource
    /// `appid`, `FLATCAR_RELEASE_APPID`: `{e96281a6-d1af-4bde-9a0a-97b76e56dc57}` for Flatcar.
    public var appID: String
    /// `version`: the OS version that runs, `FLATCAR_RELEASE_VERSION`.
    public var version: String
    /// `track`: the group (channel), `GROUP`.
    public var track: String
    /// The kernel's boot id, without braces: the request adds them.
    public var bootID: String
    public var oem: String
    public var oemVersion: String
    /// The first version this machine ever ran.
    public var alephVersion: String
    /// `/etc/machine-id`, sent as it is.
    public var machineID: String
    public var machineAlias: String
    /// `board`, `FLATCAR_RELEASE_BOARD`, e.g. `amd64-usr`.
    public var board: String
    /// `uname -m`, e.g. `x86_64`: the second half of the `<os>` element's `sp`.
    public var architecture: String
    public var body: Body

    public init(clientVersion: String = OmahaRequest.defaultClientVersion, installSource: InstallSource,
                appID: String, version: String, track: String, bootID: String, oem: String = "",
                oemVersion: String = "", alephVersion: String, machineID: String, machineAlias: String = "",
                board: String, architecture: String, body: Body) {
        self.clientVersion = clientVersion
        self.installSource = installSource
        self.appID = appID
        self.version = version
        self.track = track
        self.bootID = bootID
        self.oem = oem
        self.oemVersion = oemVersion
        self.alephVersion = alephVersion
        self.machineID = machineID
        self.machineAlias = machineAlias
        self.board = board
        self.architecture = architecture
        self.body = body
    }
}
