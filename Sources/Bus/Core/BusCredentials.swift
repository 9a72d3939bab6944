import CSystemd

/// Who sent a method call, as the message bus vouches for it: the effective uid and the pid
/// the bus recorded when the sender connected, and the groups it reported then. Nothing is
/// read from /proc, where a pid can be reused by another process between the call and the look.
public struct BusCredentials: Sendable, Equatable {
    public var uid: UInt32
    /// The primary group, when the bus reports it separately; dbus-daemon does not, but its
    /// `groups` include the primary group.
    public var gid: UInt32?
    /// The groups the bus reports: for dbus-daemon and dbus-broker the primary group and the
    /// supplementary groups, sorted; empty when the bus does not say.
    public var groups: [UInt32]
    public var pid: Int32?

    public init(uid: UInt32, gid: UInt32? = nil, groups: [UInt32] = [], pid: Int32? = nil) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.pid = pid
    }

    /// The sender of `message`. Only the uid is required: an access decision needs it, and
    /// without it there is nothing to decide on.
    static func ofSender(_ message: OpaquePointer) throws(BusError) -> BusCredentials {
        let mask = UInt64(SD_BUS_CREDS_EUID) | UInt64(SD_BUS_CREDS_GID) | UInt64(SD_BUS_CREDS_SUPPLEMENTARY_GIDS)
            | UInt64(SD_BUS_CREDS_PID)
        var creds: OpaquePointer?
        let queried = sd_bus_query_sender_creds(message, mask, &creds)
        if queried < 0 { throw .errno(queried, "asking the bus who sent the call") }
        defer { sd_bus_creds_unref(creds) }

        var uid = uid_t()
        let gotUID = sd_bus_creds_get_euid(creds, &uid)
        if gotUID < 0 { throw .errno(gotUID, "reading the caller's uid") }
        var gid = gid_t()
        var pid = pid_t()
        var credentials = BusCredentials(
            uid: uid,
            gid: sd_bus_creds_get_gid(creds, &gid) >= 0 ? gid : nil,
            groups: [],
            pid: sd_bus_creds_get_pid(creds, &pid) >= 0 ? pid : nil
        )
        var groupsPointer: UnsafePointer<gid_t>?
        let groupCount = sd_bus_creds_get_supplementary_gids(creds, &groupsPointer)
        if groupCount > 0, let groupsPointer {
            credentials.groups = Array(UnsafeBufferPointer(start: groupsPointer, count: Int(groupCount)))
        } else if let sender = sd_bus_message_get_sender(message), let bus = sd_bus_message_get_bus(message) {
            // sd-bus (252) does not read the group list dbus-daemon offers, so it is asked for.
            credentials.groups = try groupsOf(String(cString: sender), on: bus)
        }
        return credentials
    }

    private static func groupsOf(_ sender: String, on bus: OpaquePointer) throws(BusError) -> [UInt32] {
        let reply = try BusConnection.call(on: bus, destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                           interface: "org.freedesktop.DBus", member: "GetConnectionCredentials",
                                           arguments: [.string(sender)], timeout: 25)
        guard let groups = reply.first?.dictionaryValue?["UnixGroupIDs"]?.arrayValue else { return [] }
        return groups.compactMap(\.uint32Value)
    }
}
