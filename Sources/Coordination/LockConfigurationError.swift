/// Why a reboot-coordination setting was refused before anything was sent.
public enum LockConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case noEndpoints
    case invalidEndpoint(String)
    case invalidFleetLockURL(String)
    /// FleetLock groups are `^[a-zA-Z0-9.-]+$`.
    case invalidGroup(String)
    case emptyID
    case incompleteClientCertificate
    case unknownStrategy(String)

    public var description: String {
        switch self {
        case .noEndpoints:
            return "no etcd endpoint is configured; give at least one client URL such as http://127.0.0.1:2379"
        case let .invalidEndpoint(endpoint):
            return "the etcd endpoint \"\(endpoint)\" is not an http:// or https:// URL; write it like http://10.0.0.1:2379"
        case let .invalidFleetLockURL(url):
            return "the FleetLock URL \"\(url)\" is not an http:// or https:// URL; write it like http://airlock.example.com:9090/"
        case let .invalidGroup(group):
            return "the FleetLock group \"\(group)\" may contain only letters, digits, '.' and '-' and must not be empty; "
                + "Zincati's default is \"default\""
        case .emptyID:
            return "the host's lock ID is empty; it comes from /etc/machine-id, which must not be empty"
        case .incompleteClientCertificate:
            return "an etcd client certificate needs both the certificate and its key; give both or neither"
        case let .unknownStrategy(text):
            return text == "best-effort"
                ? "the reboot strategy \"best-effort\" was removed from locksmith in v0.6.0; use etcd-lock or reboot"
                : "the reboot strategy \"\(text)\" is unknown; use off, reboot, etcd-lock or fleetlock"
        }
    }
}
