/// What update_engine's configuration files say about updating: the server, the group and how
/// this machine presents itself, read with update_engine's precedence and syntax so that an
/// existing Flatcar machine keeps its settings.
public struct FlatcarUpdateConfiguration: Hashable, Sendable {
    /// Searched in this order, key by key: the first file that has a key gives its value.
    /// The first is the administrator's, the others are the image's.
    public static let paths = ["/etc/flatcar/update.conf", "/usr/share/flatcar/update.conf", "/usr/share/flatcar/release"]
    /// Flatcar's application id, `kAppId`, sent when `FLATCAR_RELEASE_APPID` is not set.
    public static let defaultAppID = "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"
    /// `kDefaultChannel`.
    public static let defaultGroup = "stable"

    /// `SERVER`; nil when no file sets it, so that the caller can choose between its own
    /// setting and `OmahaServerSetting.production`, update_engine's default.
    public var server: OmahaServerSetting?
    /// `GROUP`, sent as `track`: a channel name or a Nebraska group id.
    public var group: String
    /// `MACHINE_ALIAS`, sent as `machinealias`; empty when not set.
    public var machineAlias: String
    /// `FLATCAR_RELEASE_APPID`, sent as `appid`.
    public var appID: String
    /// `FLATCAR_RELEASE_VERSION`: the running version, from the image's release file, unless
    /// /etc/flatcar/update.conf overrides it to force an update or a downgrade.
    public var version: String?
    /// `FLATCAR_RELEASE_BOARD`, e.g. `amd64-usr`.
    public var board: String?
    /// `DOWNLOAD_USER` and `DOWNLOAD_PASSWORD`: HTTP basic authentication for the payload download.
    public var downloadUser: String?
    public var downloadPassword: String?

    /// Reads the files under `root` (`""` for the running system). Missing files are fine: a
    /// machine with none of them updates from the production server's stable group.
    public static func load(root: String = "") throws(OmahaHostError) -> FlatcarUpdateConfiguration {
        let files = try FlatcarKeyValueFiles(root: root, paths: paths)
        return FlatcarUpdateConfiguration(
            server: files["SERVER"].map(OmahaServerSetting.init),
            group: files["GROUP"] ?? defaultGroup,
            machineAlias: files["MACHINE_ALIAS"] ?? "",
            appID: files["FLATCAR_RELEASE_APPID"] ?? defaultAppID,
            version: files["FLATCAR_RELEASE_VERSION"],
            board: files["FLATCAR_RELEASE_BOARD"],
            downloadUser: files["DOWNLOAD_USER"],
            downloadPassword: files["DOWNLOAD_PASSWORD"])
    }
}
