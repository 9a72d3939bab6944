import Platform
import SystemPackage

/// One 1 MiB buffer that an image passes through, chunk by chunk, to be hashed or copied.
/// It is allocated once per pass, so a multi-gigabyte image costs no more memory than this.
final class ChunkBuffer {
    static let size = 1 << 20
    private let buffer = AlignedBuffer(capacity: ChunkBuffer.size)

    /// SHA-256 of `count` bytes of `file` (named `path` in errors) from `offset`, and how many
    /// bytes there were: fewer than `count` when the file ends early.
    /// `table`, when given, is fed the same bytes: one read of the image serves both.
    func hash(
        _ file: FileDescriptor, path: String, from offset: UInt64, count: UInt64, table: ChunkTableBuilder? = nil
    ) throws(BundleFileError) -> (digest: [UInt8], count: UInt64) {
        let hasher = SHA256()
        let done = try forEachChunk(of: file, path: path, from: offset, count: count) { chunk, _ in
            hasher.update(UnsafeRawBufferPointer(chunk))
            table?.update(UnsafeRawBufferPointer(chunk))
        }
        return (hasher.finalize(), done)
    }

    /// Copies `count` bytes of `source` from `sourceOffset` to `destination` at
    /// `destinationOffset`; returns how many there were. (copy_file_range would keep the data
    /// in the kernel, but Glibc's Swift module does not declare it.)
    func copy(
        _ source: FileDescriptor, path sourcePath: String, from sourceOffset: UInt64, count: UInt64,
        to destination: FileDescriptor, path destinationPath: String, at destinationOffset: UInt64
    ) throws(BundleFileError) -> UInt64 {
        try forEachChunk(of: source, path: sourcePath, from: sourceOffset, count: count) { (chunk, position) throws(BundleFileError) in
            try BundleFile.io("writing", destinationPath) { () throws(Errno) in
                try Errno.typed {
                    try destination.writeExactly(toAbsoluteOffset: Int64(destinationOffset + position), UnsafeRawBufferPointer(chunk))
                }
            }
        }
    }

    /// Reads the range chunk by chunk, handing each chunk and its position within the range to
    /// `body`; stops early at the end of the file and returns how many bytes were read.
    private func forEachChunk(
        of file: FileDescriptor, path: String, from offset: UInt64, count: UInt64,
        _ body: (UnsafeMutableRawBufferPointer, UInt64) throws(BundleFileError) -> Void
    ) throws(BundleFileError) -> UInt64 {
        var done: UInt64 = 0
        while done < count {
            let wanted = Int(min(UInt64(ChunkBuffer.size), count - done))
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[0..<wanted])
            let read = try BundleFile.io("reading", path) { () throws(Errno) in
                try file.readFilling(fromAbsoluteOffset: Int64(offset + done), into: chunk)
            }
            try body(UnsafeMutableRawBufferPointer(rebasing: chunk[0..<read]), done)
            done += UInt64(read)
            if read < wanted { break }
        }
        return done
    }
}
