#if canImport(Glibc)
import Glibc
#endif
import Platform
import SystemPackage

/// Exclusive use of a disk for one writer: a BSD `flock(LOCK_EX)` on the whole-disk device or
/// the disk-image file, as systemd's partition writers take it (systemd-repart, udev's own
/// tools) and as udev honours: while it is held, udev does not probe the disk half-written.
///
/// Every GPT change and every slot write holds it for its whole read-check-write, so that a
/// decision made on what was read is still true when the bytes land. The lock belongs to the
/// open file description: a second writer in the same process (another thread of tandemd)
/// waits just as another process does, and closing this descriptor, or the process ending,
/// releases it.
///
/// A loop device and the image file behind it are two inodes and two locks: lock the path the
/// writes go to.
public final class DiskLock {
    public let path: String
    private let descriptor: FileDescriptor

    /// How long a second writer waits for the first before it gives up: long enough for any
    /// GPT change (milliseconds) and for udev's probe, short enough to answer a user promptly.
    public static let defaultTimeout = 5.0
    /// How often a waiting writer tries again.
    static let pollInterval = 0.02

    private init(path: String, descriptor: FileDescriptor) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        try? descriptor.close()
    }

    /// Locks `path`, waiting up to `timeout` seconds for another holder to release it; then
    /// fails with `SlotError.diskBusy`, naming the holder when the kernel's lock table does.
    /// `abandon` is asked between attempts: true (the operation was cancelled, the service is
    /// stopping) ends the wait with `SlotError.diskLockWaitAbandoned`.
    public static func acquire(_ path: String, timeout: Double = defaultTimeout,
                               abandon: () -> Bool = { false }) throws(SlotError) -> DiskLock {
        let descriptor: FileDescriptor
        do {
            // Read-only is enough for flock, and never creates or truncates anything.
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw .cannotOpen(disk: path, errno: error as? Errno ?? .ioError)
        }
        let lock = DiskLock(path: path, descriptor: descriptor)
        let deadline = MonotonicClock.now() + max(0, timeout)
        while true {
            do {
                try Errno.retryingOnInterrupt { flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }
                return lock
            } catch .wouldBlock {
                guard MonotonicClock.now() < deadline else {
                    throw .diskBusy(disk: path, holder: lock.holder(), waitedSeconds: timeout)
                }
                if abandon() { throw .diskLockWaitAbandoned(disk: path) }
                usleep(useconds_t(pollInterval * 1e6))
            } catch {
                throw .ioFailed(disk: path, operation: "locking (flock)", detail: "\(error)")
            }
        }
    }

    /// Who holds the lock on this inode now, if the kernel says.
    private func holder() -> FlockHolder? {
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else { return nil }
        return FlockHolder.find(device: DeviceNumber(info.st_dev), inode: UInt64(info.st_ino))
    }
}
