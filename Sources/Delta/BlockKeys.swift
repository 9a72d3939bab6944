import Platform
import SystemPackage
import Verification

/// The lookup keys of an image's 4096-byte blocks (`ChunkLayout.keyLength` bytes of each
/// block's SHA-256, as a number), in image order: read from a format 3 bundle's chunk table, or
/// computed from the bytes of any image.
public enum BlockKeys {
    /// Why keys could not be had.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case io(path: String, operation: String, errno: Int32)
        case truncated(path: String)

        public var description: String {
            switch self {
            case let .io(path, operation, code):
                "\(operation) \(path) failed: \(Errno(rawValue: code))"
            case let .truncated(path):
                "\(path) ends before the bytes its header promises; fetch it again"
            }
        }
    }

    /// The key of a block of 4096 zero bytes.
    public static let zeroBlockKey: UInt64 = {
        let zeros = [UInt8](repeating: 0, count: Int(ChunkLayout.blockSize))
        let digest = zeros.withUnsafeBytes { bytes in
            let hasher = SHA256()
            hasher.update(bytes)
            return hasher.finalize()
        }
        return digest.withUnsafeBytes { key(UnsafeRawBufferPointer(rebasing: $0[0..<ChunkLayout.keyLength])) }
    }()

    /// Small: an install hashes the booted slot through two of them (one read ahead) beside
    /// its index.
    static let readSize = 256 << 10

    /// Calls `body` with each key of the format 3 bundle at `path` (whose preamble is
    /// `preamble`) and its block's length, from the table's key section. The table is not
    /// proven here: `image verify` does that.
    public static func forEach(inTableOf path: String, preamble: BundlePreamble, layout: ChunkLayout,
                               _ body: (UInt64, UInt64) -> Void) throws(Failure) {
        try forEach(storedIn: path, from: preamble.header.tableOffset + layout.keysOffset, blocks: layout.blockCount,
                    imageSize: layout.imageSize, body)
    }

    /// Calls `body` with each of the first `blocks` keys stored at `offset` of `path` (8 bytes
    /// each, as in a chunk table) and its block's length in an image of `imageSize` bytes.
    static func forEach(storedIn path: String, from offset: UInt64, blocks: UInt64, imageSize: UInt64,
                        _ body: (UInt64, UInt64) -> Void) throws(Failure) {
        var block: UInt64 = 0
        try read(path, from: offset, count: blocks * UInt64(ChunkLayout.keyLength), unit: ChunkLayout.keyLength) { bytes in
            var offset = 0
            while offset < bytes.count {
                let length = min(ChunkLayout.blockSize, imageSize - block * ChunkLayout.blockSize)
                body(key(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + ChunkLayout.keyLength)])), length)
                block += 1
                offset += ChunkLayout.keyLength
            }
        }
    }

    /// Calls `body` with the key of each block of `count` bytes of `path` from `offset` (nil:
    /// to the end of the file), and the block's length, hashing them.
    public static func forEach(hashing path: String, from offset: UInt64, count: UInt64?,
                               _ body: (UInt64, UInt64) -> Void) throws(Failure) {
        let hasher = SHA256()
        var digest = [UInt8](repeating: 0, count: SHA256.digestLength)
        let blockSize = Int(ChunkLayout.blockSize)
        try read(path, from: offset, count: count, unit: blockSize) { bytes in
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + blockSize)
                hasher.reset()
                hasher.update(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                hasher.finalize(into: &digest)
                body(digest.withUnsafeBytes { key(UnsafeRawBufferPointer(rebasing: $0[0..<ChunkLayout.keyLength])) },
                     UInt64(end - start))
                start = end
            }
        }
    }

    /// Calls `body` with each of `blocks` (4096-byte blocks of `path` counted from `offset`, in
    /// any order) and its key, hashing it: a sample of an image, read one block at a time.
    /// Every block is asked for at once first, so that the device reads them side by side
    /// instead of one round trip each: a 1,024-block sample of a cold loop device took 38 ms
    /// read in turn and 14 ms asked for first (docs/streaming.md, "Delta installs").
    public static func forEach(hashingBlocksOf path: String, from offset: UInt64, blocks: some Collection<UInt64>,
                               _ body: (UInt64, UInt64) -> Void) throws(Failure) {
        let file = try open(path)
        defer { try? file.close() }
        let hasher = SHA256()
        var digest = [UInt8](repeating: 0, count: SHA256.digestLength)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(ChunkLayout.blockSize), alignment: 16)
        defer { block.deallocate() }
        for number in blocks {
            file.adviseWillNeed(offset: offset + number * ChunkLayout.blockSize, length: ChunkLayout.blockSize)
        }
        for number in blocks {
            do {
                try file.readExactly(fromAbsoluteOffset: Int64(offset + number * ChunkLayout.blockSize), into: block)
            } catch {
                throw readFailure(error, path: path)
            }
            hasher.reset()
            hasher.update(UnsafeRawBufferPointer(block))
            hasher.finalize(into: &digest)
            body(number, digest.withUnsafeBytes { key(UnsafeRawBufferPointer(rebasing: $0[0..<ChunkLayout.keyLength])) })
        }
    }

    /// The first 8 bytes of a digest as one number (big-endian, so that it sorts as the bytes do).
    static func key(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// What a failed read of `path` means: it ended early, or the system refused.
    static func readFailure(_ error: any Error, path: String) -> Failure {
        error is ShortReadError ? .truncated(path: path)
            : .io(path: path, operation: "reading", errno: (error as? Errno ?? .ioError).rawValue)
    }

    static func open(_ path: String) throws(Failure) -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw .io(path: path, operation: "opening", errno: (error as? Errno ?? .ioError).rawValue)
        }
    }

    /// Reads `count` bytes from `offset` (nil: to the end of the file) in pieces that are whole
    /// multiples of `unit` (but the last), handing each to `body`; the next piece is read while
    /// `body` takes this one.
    private static func read(_ path: String, from offset: UInt64, count: UInt64?, unit: Int,
                             _ body: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        let reader = try PieceReader(path: path, pieceSize: readSize)
        let total: UInt64
        if let count {
            total = count
        } else {
            let size = try reader.size()
            total = size - min(offset, size)
        }
        try reader.forEachPiece(from: offset, count: total, unit: unit, body)
    }
}
