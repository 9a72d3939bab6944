import Platform
import SystemPackage
import Verification

/// Writes a bundle's block file (`BlockFileHeader`) from its image: each block compressed on its
/// own, at zstd level `level`. The file is written beside its name and renamed into place once
/// complete and flushed.
public enum BlockFileWriter {
    /// zstd's default level: on the realistic image pair, the changed blocks compress about
    /// 5:1 at level 3 (docs/benchmarks.md), and a 1 GiB image compresses in seconds.
    public static let defaultLevel: Int32 = 3

    /// Why a block file could not be written.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Returns the file's length. `imageSHA256` is the signed manifest's, which the header
    /// repeats so that a host can tell the file belongs to its bundle.
    @discardableResult
    public static func write(image: String, imageOffset: UInt64, layout: ChunkLayout, imageSHA256: [UInt8],
                             to output: String, level: Int32 = defaultLevel) throws(Failure) -> UInt64 {
        guard let compressor = ZstdCompressor(level: level) else { throw Failure(description: "zstd could not start") }
        let header = BlockFileHeader(blockCount: layout.blockCount, imageSize: layout.imageSize, imageSHA256: imageSHA256)
        do {
            let source = try FileDescriptor.open(FilePath(image), .readOnly, options: [.closeOnExec])
            defer { try? source.close() }
            let replacement = try ReplacementFile(destination: FilePath(output), permissions: [.ownerReadWrite, .groupRead, .otherRead])
            let readSize = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 16)
            defer { buffer.deallocate() }
            let blockSize = Int(ChunkLayout.blockSize)
            let packed = UnsafeMutableRawBufferPointer.allocate(byteCount: ZstdCompressor.bound(blockSize), alignment: 16)
            defer { packed.deallocate() }
            var offsets: [UInt8] = []
            offsets.reserveCapacity(Int((layout.blockCount + 1) * BlockFileHeader.offsetLength))
            var stored: UInt64 = 0
            var position: UInt64 = 0
            while position < layout.imageSize {
                let count = Int(min(UInt64(readSize), layout.imageSize - position))
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
                try source.readExactly(fromAbsoluteOffset: Int64(imageOffset + position), into: piece)
                var start = 0
                while start < count {
                    let block = UnsafeRawBufferPointer(rebasing: piece[start..<min(count, start + blockSize)])
                    offsets.appendLittleEndian(stored)
                    // Raw when compression does not make it smaller: the stored length says which.
                    let bytes = compressor.compress(block, into: packed).flatMap { $0 < block.count ? $0 : nil }
                        .map { UnsafeRawBufferPointer(rebasing: packed[0..<$0]) } ?? block
                    try replacement.descriptor.writeExactly(toAbsoluteOffset: Int64(header.dataOffset + stored), bytes)
                    stored += UInt64(bytes.count)
                    start += block.count
                }
                position += UInt64(count)
            }
            offsets.appendLittleEndian(stored)
            try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, header.serialized() + offsets)
            try replacement.commit(replacing: true)
            return header.dataOffset + stored
        } catch let short as ShortReadError {
            throw Failure(description: "\(image) ended after \(short.offset + Int64(short.received)) bytes, before its image did")
        } catch {
            throw Failure(description: "writing the block file \(output) failed: \(error)")
        }
    }
}
