/// Why the files that say where and as what this machine checks for updates (update.conf,
/// oem-release, machine-id) could not be read.
public enum OmahaHostError: Error, Equatable, CustomStringConvertible {
    /// The file exists but could not be read; the system's reason.
    case unreadable(path: String, reason: String)
    /// The file is larger than any such file, so it was not read.
    case tooLarge(path: String, limit: Int)
    /// `/etc/machine-id` is missing, empty or `uninitialized`.
    case noMachineID(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(path) (\(reason)); check that the file is readable by root, "
                + "or remove it if it is not meant to be there"
        case let .tooLarge(path, limit):
            return "\(path) is larger than \(limit) bytes, which no such file needs; it was not read; "
                + "check what was written there"
        case let .noMachineID(path):
            return "\(path) holds no machine id, which the update server needs to tell this machine from others; "
                + "run systemd-machine-id-setup to create one"
        }
    }
}
