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
