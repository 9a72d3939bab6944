import Omaha
#if canImport(Glibc)
import Glibc
#endif

/// Where updates come from, worked out from tandem.conf and, for what it leaves open, from
/// update_engine's files (/etc/flatcar/update.conf, then /usr/share/flatcar/update.conf, then
/// /usr/share/flatcar/release), so that a Flatcar machine keeps its server, group and alias.
/// Re-read before every check, as update_engine re-reads its files.
public enum UpdateChannel: Sendable, Equatable {
    /// `Source=`: a bundle path or URL, looked at directly.
    case bundle(source: String)
    case omaha(OmahaSettings)
    /// `SERVER=disabled` (or `Server=disabled`): this machine must not update itself.
    case disabled(setBy: String)
    /// Nothing configured.
    case none

    /// What status reports show: the kind, the address and the group.
    public var kind: UpdateChannelKind {
        switch self {
        case .bundle: .bundle
        case .omaha: .omaha
        case .disabled: .disabled
        case .none: .none
        }
    }

    public var address: String {
        switch self {
        case let .bundle(source): source
        case let .omaha(settings): settings.server
        case let .disabled(setBy): "disabled by \(setBy)"
        case .none: ""
        }
    }

    public var group: String {
        if case let .omaha(settings) = self { return settings.group }
        return ""
    }

    /// Reads update_engine's files under `configuration.root` for what tandem.conf leaves open.
    /// tandem.conf wins key by key; then the first of update_engine's files that has the key.
    static func resolve(_ configuration: Configuration, runningVersion: String?) throws(OmahaHostError) -> UpdateChannel {
        if let source = configuration.source { return .bundle(source: source) }
        let flatcar = try FlatcarUpdateConfiguration.load(root: configuration.root)
        let server: OmahaServerSetting?
        let serverOrigin: String
        if let configured = configuration.server {
            server = configured
            serverOrigin = "Server= in \(Configuration.defaultPath)"
        } else {
            server = flatcar.server
            serverOrigin = "SERVER= in " + FlatcarUpdateConfiguration.paths.map { configuration.root + $0 }.joined(separator: " or ")
        }
        switch server {
        case nil:
            // update_engine would fall back to Flatcar's public server, whose payloads are not
            // Tandem bundles: no server means no automatic updates.
            return .none
        case .disabled:
            return .disabled(setBy: serverOrigin)
        case let .url(url):
            return .omaha(OmahaSettings(
                server: url,
                group: configuration.group ?? flatcar.group,
                appID: configuration.appID ?? flatcar.appID,
                machineAlias: configuration.machineAlias ?? flatcar.machineAlias,
                version: flatcar.version ?? runningVersion,
                board: flatcar.board ?? OmahaSettings.board(architecture: OmahaSettings.architecture)))
        }
    }
}

/// Everything an Omaha request says that comes from configuration.
public struct OmahaSettings: Sendable, Equatable {
    public var server: String
    public var group: String
    public var appID: String
    public var machineAlias: String
    /// The version the request claims: `FLATCAR_RELEASE_VERSION` when update_engine's files set
    /// it (an override in /etc forces an update or a downgrade), else the running version.
    public var version: String?
    public var board: String

    /// `uname -m`, which update_engine puts after the version in `sp`.
    static let architecture: String = {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }()

    /// Flatcar's board names for the two architectures it ships.
    static func board(architecture: String) -> String {
        switch architecture {
        case "aarch64", "arm64": "arm64-usr"
        default: "amd64-usr"
        }
    }
}
