#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

extension FileDescriptor {
    /// Asks the kernel to start reading `length` bytes from `offset` into the page cache now
    /// (`posix_fadvise(POSIX_FADV_WILLNEED)`), without waiting for them. Only a hint: a
    /// kernel that ignores it costs the later read nothing but its own time.
    public func adviseWillNeed(offset: UInt64, length: UInt64) {
        guard let start = off_t(exactly: offset), let count = off_t(exactly: length) else { return }
        _ = posix_fadvise(rawValue, start, count, POSIX_FADV_WILLNEED)
    }
}
