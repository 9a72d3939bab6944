import Coordination

/// How tandemd reboots into an installed update (`[Reboot]` in tandem.conf): the strategy, the
/// window, and where the fleet's lock lives. Read as locksmithd reads its settings.
public struct RebootSettings: Sendable, Equatable {
    /// Default `off`: on a machine where locksmithd or the Kubernetes update operator reboots
    /// (both watch `com.coreos.update1`), a second coordinator would reboot behind their backs.
    public var strategy = RebootStrategy.off
    /// locksmith's `LOCKSMITHD_REBOOT_WINDOW_START` and `_LENGTH`; both or neither.
    public var windowStart: String?
    public var windowLength: String?
    /// The lock group: locksmith's `-group` (`""`: the default semaphore), FleetLock's `group`.
    public var group: String?
    public var etcdEndpoints = EtcdConnection.defaultEndpoints
    public var etcdAPI = EtcdAPI.v2
    public var etcdCAFile: String?
    public var etcdCertFile: String?
    public var etcdKeyFile: String?
    public var etcdUsername: String?
    public var etcdPassword: String?
    public var fleetLockURL: String?
    public var coordinatorConf = CoordinatorConf.defaultPath
    /// The first wait after a refused lock; it doubles up to five minutes, as in locksmithd.
    public var lockRetrySeconds = 5

    public enum EtcdAPI: String, Sendable, CaseIterable {
        /// The keys API, what shipped locksmithd uses; etcd 3.4 and 3.5 need `--enable-v2=true`.
        case v2
        /// The v3 API through etcd's JSON gateway (a separate keyspace), for etcd ≥ 3.6.
        case v3
    }

    public init() {}

    static func apply(_ entry: ConfigurationFile.Entry, to settings: inout RebootSettings,
                      invalid: (String) -> ConfigurationError) throws(ConfigurationError) -> Bool {
        let value = entry.value
        func optional(_ value: String) -> String? { value.isEmpty ? nil : value }
        switch entry.key {
        case "Strategy":
            // Empty resets to the default, as for every key; locksmith's "empty means reboot"
            // applies to its REBOOT_STRATEGY, not to this file.
            guard let strategy = value.isEmpty ? .off : RebootStrategy(rawValue: value) else {
                throw invalid(RebootStrategy.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.strategy = strategy
        case "WindowStart": settings.windowStart = optional(value)
        case "WindowLength": settings.windowLength = optional(value)
        case "Group": settings.group = optional(value)
        case "EtcdEndpoints":
            let endpoints = value.split(separator: " ").map(String.init)
            guard !endpoints.isEmpty else { throw invalid("one or more http(s):// URLs, separated by spaces") }
            settings.etcdEndpoints = endpoints
        case "EtcdAPI":
            guard let api = EtcdAPI(rawValue: value) else { throw invalid("v2 or v3") }
            settings.etcdAPI = api
        case "EtcdCAFile": settings.etcdCAFile = optional(value)
        case "EtcdCertFile": settings.etcdCertFile = optional(value)
        case "EtcdKeyFile": settings.etcdKeyFile = optional(value)
        case "EtcdUsername": settings.etcdUsername = optional(value)
        case "EtcdPassword": settings.etcdPassword = optional(value)
        case "FleetLockURL": settings.fleetLockURL = optional(value)
        case "CoordinatorConf":
            guard value.hasPrefix("/") else { throw invalid("an absolute path") }
            settings.coordinatorConf = value
        case "LockRetrySec":
            guard let seconds = Int(value), seconds > 0 else { throw invalid("a whole number of seconds greater than 0") }
            settings.lockRetrySeconds = seconds
        default:
            return false
        }
        return true
    }

    static let keys = ["Strategy", "WindowStart", "WindowLength", "Group", "EtcdEndpoints", "EtcdAPI", "EtcdCAFile",
                       "EtcdCertFile", "EtcdKeyFile", "EtcdUsername", "EtcdPassword", "FleetLockURL", "CoordinatorConf",
                       "LockRetrySec"]

    /// Everything that can only be checked with all keys read: the window parses, a lock
    /// strategy has its server, the settings build a lock.
    func validated(path: String) throws(ConfigurationError) {
        do {
            _ = try RebootWindow.configured(start: windowStart, length: windowLength)
        } catch {
            throw .conflict(path: path, message: "[Reboot] WindowStart=/WindowLength=: \(error)")
        }
        if strategy == .fleetLock, fleetLockURL == nil {
            throw .conflict(path: path, message: "[Reboot] Strategy=fleetlock needs FleetLockURL=, the FleetLock server's base URL")
        }
    }
}
