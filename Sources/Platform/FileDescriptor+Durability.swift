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

    /// Size in bytes of a regular file or a block device.
    ///
    /// `lseek(SEEK_END)` answers for both, where `fstat` reports 0 for block devices.
    public func sizeInBytes() throws -> UInt64 {
        let end = try seek(offset: 0, from: .end)
        return UInt64(end)
    }

    /// Whether this descriptor refers to a block device rather than a regular file.
    public func isBlockDevice() throws -> Bool {
        try stat().type == .blockSpecial
    }
}

extension Errno {
    /// Runs a call that returns -1 and sets `errno` on failure, retrying on `EINTR`.
    @discardableResult
    public static func retryingOnInterrupt(_ call: () -> CInt) throws(Errno) -> CInt {
        while true {
            let result = call()
            if result != -1 { return result }
            let error = Errno(rawValue: errno)
            if error != .interrupted { throw error }
        }
    }
}
