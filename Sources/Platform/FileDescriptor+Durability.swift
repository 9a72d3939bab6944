#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

extension FileDescriptor {
    /// Flushes data and metadata to stable storage (`fsync(2)`).
    public func synchronize() throws(Errno) {
        try Errno.retryingOnInterrupt { fsync(rawValue) }
    }

    /// Flushes data, and only the metadata needed to read it back (`fdatasync(2)`).
    public func synchronizeData() throws(Errno) {
        try Errno.retryingOnInterrupt { fdatasync(rawValue) }
    }

    /// Flushes the directory that holds `path`. A rename, link or unlink changes the directory,
    /// not the file, so it survives a crash only once the directory is synced.
    public static func synchronizeDirectory(containing path: FilePath) throws(Errno) {
        let directory = path.removingLastComponent()
        let descriptor = try Errno.typed {
            try FileDescriptor.open(directory.isEmpty ? FilePath(".") : directory, .readOnly,
                                    options: [.directory, .closeOnExec])
        }
        // Nothing was written through this descriptor, so closing it cannot lose anything.
        defer { try? descriptor.close() }
        try descriptor.synchronize()
    }

    /// Makes a rename (or link) to `path` durable: flushes the file at its new name, then its
    /// directory. The directory alone is not enough on FAT (the ESP): Linux's vfat writes a
    /// renamed file's directory entry (start cluster, size) when it writes back the file's
    /// inode, not with the directory, while any fsync on the file system flushes the FAT itself.
    /// A power cut then leaves the name pointing at the clusters of the file it replaced, already
    /// freed, which `make boot-test`'s power cuts found (docs/boot-test.md).
    public static func synchronizeRenamed(to path: FilePath) throws(Errno) {
        let file = try Errno.typed { try FileDescriptor.open(path, .readOnly, options: [.closeOnExec]) }
        // Nothing was written through this descriptor, so closing it cannot lose anything.
        defer { try? file.close() }
        try file.synchronize()
        try synchronizeDirectory(containing: path)
    }

    /// Size in bytes of a regular file or a block device.
    ///
    /// `lseek(SEEK_END)` answers for both, where `fstat` reports 0 for block devices.
    public func sizeInBytes() throws(Errno) -> UInt64 {
        let end = try Errno.typed { try seek(offset: 0, from: .end) }
        return UInt64(end)
    }

    /// Whether this descriptor refers to a block device rather than a regular file.
    public func isBlockDevice() throws(Errno) -> Bool {
        try stat().type == .blockSpecial
    }
}
