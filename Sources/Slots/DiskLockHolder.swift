import FoundationEssentials
import Platform

/// The process holding a disk's lock, as the kernel's lock table names it: for a message that
/// says who to wait for ("flock (pid 4242)") rather than only that someone is there.
public struct DiskLockHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    /// `/proc/PID/comm`; nil when the process is gone or hidden (another pid namespace).
    public var command: String?

    public var description: String {
        command.map { "\($0) (pid \(pid))" } ?? "pid \(pid)"
    }

    /// The holder of the `flock` lock on the inode `inode` of the file system `device`, from
    /// `/proc/locks`. Nil when none is listed: the lock was released meanwhile, or the holder
    /// lives in another pid namespace (pid 0 or -1).
    static func find(device: BootedPartitionDetector.DeviceNumber, inode: UInt64,
                     paths: SystemPaths = .live) -> DiskLockHolder? {
        guard let table = try? String(contentsOfFile: paths.proc + "/locks", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n") {
            guard let pid = holderPID(String(line), device: device, inode: inode), pid > 0 else { continue }
            let command = try? String(contentsOfFile: "\(paths.proc)/\(pid)/comm", encoding: .utf8).trimmingWhitespace()
            return DiskLockHolder(pid: pid, command: command?.isEmpty == false ? command : nil)
        }
        return nil
    }

    /// The pid of a granted FLOCK in one `/proc/locks` line on exactly this inode, such as
    /// `3: FLOCK  ADVISORY  WRITE 4242 07:00:1029 0 EOF`. Waiters (`3: -> FLOCK …`) hold nothing.
    static func holderPID(_ line: String, device: BootedPartitionDetector.DeviceNumber, inode: UInt64) -> Int32? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[1] == "FLOCK" else { return nil }
        let location = fields[5].split(separator: ":")
        guard location.count == 3, let major = UInt32(location[0], radix: 16), let minor = UInt32(location[1], radix: 16),
              let number = UInt64(location[2]), major == device.major, minor == device.minor, number == inode
        else { return nil }
        return Int32(fields[4])
    }
}
