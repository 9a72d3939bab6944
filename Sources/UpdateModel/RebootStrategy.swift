/// How a host that has an update waiting decides when to reboot: locksmith's `REBOOT_STRATEGY`
/// values, and Zincati's FleetLock.
public enum RebootStrategy: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Never reboot on its own; someone else (an operator, the Kubernetes update operator) does.
    case off
    /// Reboot as soon as the update is ready (inside the window, if one is set).
    case reboot
    /// Take a slot of locksmith's etcd semaphore first.
    case etcdLock = "etcd-lock"
    /// Ask a FleetLock server (airlock, poseidon/fleetlock) first.
    case fleetLock = "fleetlock"

    public var description: String { rawValue }
}
