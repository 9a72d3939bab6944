#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// Crash-safe replacement and removal of small files held in memory. After a crash the target
/// holds either the old contents or the new, never a mixture; see `ReplacementFile`, which
/// does the work and also takes content streamed in pieces.
public enum AtomicFile {
    /// Nil `permissions`: whatever the file system gives (for FAT, which has no modes).
    public static func write(
        _ bytes: [UInt8], to path: String, permissions: FilePermissions? = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws(Errno) {
        let replacement = try ReplacementFile(destination: FilePath(path), permissions: permissions)
        try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, bytes)
        try replacement.commit()
    }

    /// Removes `path` durably; a missing file is not an error.
    public static func remove(_ path: String) throws(Errno) {
        do {
            try Errno.retryingOnInterrupt { unlink(path) }
        } catch .noSuchFileOrDirectory {
            return
        }
        try FileDescriptor.synchronizeDirectory(containing: FilePath(path))
    }
}
