/// Reads little-endian fields front to back, returning nil instead of trapping when the
/// bytes run out, because every byte it reads comes from a file that may be cut short.
public struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    public private(set) var offset: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    public var remaining: Int { bytes.endIndex - offset }

    public mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T? {
        guard let field = take(MemoryLayout<T>.size) else { return nil }
        return field.reversed().reduce(T(0)) { $0 << 8 | T($1) }
    }
}

extension Array where Element == UInt8 {
    public mutating func appendLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for byte in 0..<MemoryLayout<T>.size {
            append(UInt8(truncatingIfNeeded: value >> (8 * byte)))
        }
    }
}
