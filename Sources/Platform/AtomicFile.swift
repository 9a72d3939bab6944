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

    /// `mkdir -p` with mode 0755, durably: each directory it creates is recorded in its parent
    /// with an fsync, so that a file renamed into it after a crash still has somewhere to be.
    /// Existing directories are left as they are.
    public static func createDirectories(_ path: String) throws(Errno) {
        let directory = FilePath(path)
        guard !directory.isEmpty, directory != FilePath("/") else { return }
        do {
            try Errno.retryingOnInterrupt { mkdir(path, 0o755) }
        } catch .fileExists {
            return
        } catch .noSuchFileOrDirectory {
            try createDirectories(directory.removingLastComponent().string)
            do {
                try Errno.retryingOnInterrupt { mkdir(path, 0o755) }
            } catch .fileExists {
                return
            }
        }
        try FileDescriptor.synchronizeDirectory(containing: directory)
    }
}
