import SystemPackage

extension FileDescriptor {
    /// The whole of a small file: a key, a list, a setting. One longer than `limit` bytes is
    /// refused with `Errno.fileTooLarge`, because a large one is a mistake (or /dev/zero) that
    /// must not exhaust memory.
    public static func contents(of path: FilePath, limit: Int) throws(Errno) -> [UInt8] {
        let descriptor = try Errno.typed { try FileDescriptor.open(path, .readOnly, options: [.closeOnExec]) }
        // Nothing was written through this descriptor, so closing it cannot lose anything.
        defer { try? descriptor.close() }
        // One byte more than allowed tells a file of exactly `limit` bytes from a longer one.
        let bytes = try descriptor.readBytes(upTo: limit + 1, fromAbsoluteOffset: 0)
        guard bytes.count <= limit else { throw .fileTooLarge }
        return bytes
    }
}
