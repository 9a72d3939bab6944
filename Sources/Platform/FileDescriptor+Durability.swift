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
