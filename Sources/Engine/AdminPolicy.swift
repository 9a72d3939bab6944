#if canImport(Glibc)
import Glibc
#endif

/// Who may change things: root, and members of the configured admin group. Anyone may read.
public struct AdminPolicy: Sendable, Equatable {
    public let groupName: String?
    /// Nil when the group does not exist on this system: then only root qualifies.
    public let groupID: UInt32?

    public init(groupName: String?) {
        self.groupName = groupName
        groupID = groupName.flatMap { name in getgrnam(name).map { $0.pointee.gr_gid } }
    }

    public init(groupName: String?, groupID: UInt32?) {
        self.groupName = groupName
        self.groupID = groupID
    }

    public func permits(uid: UInt32, gid: UInt32?, groups: [UInt32]) -> Bool {
        if uid == 0 { return true }
        guard let groupID else { return false }
        return gid == groupID || groups.contains(groupID)
    }

    /// The refusal, naming who may do it and how to get there.
    public func denial(action: String, uid: UInt32) -> String {
        guard let groupName else {
            return "\(action) needs root (the caller is uid \(uid)); run it with sudo"
        }
        let missing = groupID == nil ? " (that group does not exist on this system)" : ""
        return "\(action) needs root or membership in the group '\(groupName)'\(missing); the caller is uid \(uid), "
            + "which is neither; run it with sudo, or add the user to '\(groupName)'"
    }
}
