#if canImport(Glibc)
import Glibc
#endif

/// Page-aligned memory that `O_DIRECT` reads and writes accept, allocated once and freed on deinit.
public final class AlignedBuffer: @unchecked Sendable {
    public static let alignment = 4096
    public let bytes: UnsafeMutableRawBufferPointer

    public init(capacity: Int) {
        precondition(capacity > 0 && capacity % AlignedBuffer.alignment == 0, "capacity must be a positive multiple of 4096")
        var pointer: UnsafeMutableRawPointer?
        // posix_memalign fails only on bad alignment (ruled out above) or exhausted memory.
        guard posix_memalign(&pointer, AlignedBuffer.alignment, capacity) == 0, let pointer else {
            fatalError("cannot allocate \(capacity) bytes of aligned memory")
        }
        // Touch every page now so that the first chunk does not pay for page faults.
        memset(pointer, 0, capacity)
        bytes = UnsafeMutableRawBufferPointer(start: pointer, count: capacity)
    }

    deinit {
        free(bytes.baseAddress)
    }
}
