#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// The process holding a BSD `flock` on a file, as the kernel's lock table (`/proc/locks`)
/// names it: for messages that say who is there ("locksmithd (pid 812)"), not only that
/// someone is. `fcntl(F_GETLK)` cannot tell: it sees POSIX record locks, not `flock` locks.
public struct FlockHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    /// `/proc/PID/comm`; nil when the process is gone or hidden (another pid namespace).
    public var command: String?

    public init(pid: Int32, command: String?) {
        self.pid = pid
        self.command = command
    }

    public var description: String {
        command.map { "\($0) (pid \(pid))" } ?? "pid \(pid)"
    }

    /// The holder of a `flock` on the file at `path`. Nil when none is listed: the lock was
    /// released meanwhile, or its holder lives in another pid namespace.
    public static func holding(_ path: String, proc: String = "/proc") -> FlockHolder? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return find(device: DeviceNumber(info.st_dev), inode: UInt64(info.st_ino), proc: proc)
    }

    /// The holder of the `flock` on inode `inode` of the file system `device` (a `st_dev`).
    public static func find(device: DeviceNumber, inode: UInt64, proc: String = "/proc") -> FlockHolder? {
        guard let table = read(proc + "/locks", limit: 1 << 22) else { return nil }
        for line in table.split(separator: "\n") {
            guard let pid = holderPID(line, device: device, inode: inode), pid > 0 else { continue }
            let command = read("\(proc)/\(pid)/comm", limit: 64)?.trimmingWhitespace()
            return FlockHolder(pid: pid, command: command?.isEmpty == false ? command : nil)
        }
        return nil
    }

    /// The pid of a granted FLOCK in one `/proc/locks` line on exactly this inode, such as
    /// `3: FLOCK  ADVISORY  WRITE 4242 07:00:1029 0 EOF` (major and minor in hex). Waiters
    /// (`3: -> FLOCK …`) hold nothing.
    static func holderPID(_ line: Substring, device: DeviceNumber, inode: UInt64) -> Int32? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[1] == "FLOCK" else { return nil }
        let location = fields[5].split(separator: ":")
        guard location.count == 3, let major = UInt32(location[0], radix: 16), let minor = UInt32(location[1], radix: 16),
              let number = UInt64(location[2]), number == inode, DeviceNumber(major: major, minor: minor) == device
        else { return nil }
        return Int32(fields[4])
    }

    private static func read(_ path: String, limit: Int) -> String? {
        (try? FileDescriptor.contents(of: FilePath(path), limit: limit)).map { String(decoding: $0, as: UTF8.self) }
    }
}
