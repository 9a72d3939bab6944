/// Where the kernel's views of the running system live. Tests point these at a prepared
/// tree to exercise layouts that cannot be built here, such as dm-verity under `/usr`.
public struct SystemPaths: Sendable, Equatable {
    public var proc: String
    public var sys: String
    public var dev: String
    /// The mount point whose backing partition is the booted slot.
    public var usrMountPoint: String

    public init(proc: String = "/proc", sys: String = "/sys", dev: String = "/dev", usrMountPoint: String = "/usr") {
        self.proc = proc
        self.sys = sys
        self.dev = dev
        self.usrMountPoint = usrMountPoint
    }

    public static let live = SystemPaths()
}
