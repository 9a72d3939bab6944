#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Crash-safe file replacement: write a temporary file beside the target, fsync it, rename it
/// over the target, then fsync the directory. After a crash the target holds either the old
/// contents or the new, never a mixture.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws {
        let target = FilePath(path)
        let directory = target.removingLastComponent()
        let temporary = directory.appending(".\(target.lastComponent?.string ?? "file").tmp-\(getpid())")
        let descriptor = try FileDescriptor.open(
            temporary, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: permissions)
        do {
            try descriptor.closeAfter {
                try bytes.withUnsafeBytes { try descriptor.writeExactly(toAbsoluteOffset: 0, $0) }
                try descriptor.synchronize()
            }
            try Errno.retryingOnInterrupt { rename(temporary.string, target.string) }
        } catch {
            _ = unlink(temporary.string)
            throw error
        }
        try synchronizeDirectory(directory)
    }

    /// Removes `path` durably; a missing file is not an error.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 {
            let error = Errno(rawValue: errno)
            if error == .noSuchFileOrDirectory { return }
            throw error
        }
        try synchronizeDirectory(FilePath(path).removingLastComponent())
    }

    /// The rename or unlink itself is only durable once the directory is synced.
    private static func synchronizeDirectory(_ directory: FilePath) throws {
        let path = directory.isEmpty ? FilePath(".") : directory
        let descriptor = try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
        try descriptor.closeAfter { try descriptor.synchronize() }
    }
}
