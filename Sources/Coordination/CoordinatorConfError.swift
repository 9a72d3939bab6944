import SystemPackage

/// Why `/run/update-engine/coordinator.conf` could not be taken or written.
public enum CoordinatorConfError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Another reboot coordinator holds the file's lock; `name` is its NAME= if readable.
    case heldByAnother(path: String, name: String?)
    case system(path: String, operation: String, Errno)
    /// `update` after `close`: the file belongs to nobody now.
    case closed(path: String)

    public var description: String {
        switch self {
        case let .heldByAnother(path, name):
            let who = name.map { "\"\($0)\"" } ?? "another program"
            return "\(path) is locked by \(who), which is coordinating reboots on this host; "
                + "run only one coordinator: stop and mask it (e.g. systemctl mask --now locksmithd.service) or set Tandem's strategy to off"
        case let .closed(path):
            return "\(path) was given up (closed) and can no longer be updated; take it again to coordinate"
        case let .system(path, operation, errno):
            return "could not \(operation) \(path): \(errno); check that /run is writable by the daemon"
        }
    }
}
