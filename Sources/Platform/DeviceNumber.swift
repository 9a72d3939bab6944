#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A device number split into major and minor, as `/proc` and sysfs print it.
public struct DeviceNumber: Sendable, Equatable {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    /// Decodes glibc's dev_t encoding (what gnu_dev_major/minor decode).
    public init(_ encoded: dev_t) {
        let device = UInt64(encoded)
        major = UInt32(((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF))
        minor = UInt32((device & 0xFF) | ((device >> 12) & ~0xFF))
    }
}
