import Platform
import SystemPackage

/// Reads a byte range of a file or device in pieces, one piece ahead of whoever takes them, on a
/// thread of its own: reading the booted slot and hashing it overlap instead of taking turns.
/// Pieces go past the page cache (`O_DIRECT`) where the file and the piece allow it, so a slot is
/// read at the device's speed and not left in the cache (on this project's loop devices, twice as
/// fast as through it); anything else (a file system without `O_DIRECT`, an unaligned piece) is
/// read through the cache.
final class PieceReader: @unchecked Sendable {
    private let path: String
    private let buffered: FileDescriptor
    private var direct: FileDescriptor?
    private let buffers: [AlignedBuffer]
    private let condition = Condition()
    /// Per buffer: the length of the piece it holds for the taker, nil while it is free.
    private var filled: [Int?]
    private var failure: BlockKeys.Failure?
    private var stopped = false

    /// `pieceSize`: a positive multiple of 4096.
    init(path: String, pieceSize: Int) throws(BlockKeys.Failure) {
        self.path = path
        buffered = try BlockKeys.open(path)
        direct = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .direct])
        buffers = [AlignedBuffer(capacity: pieceSize), AlignedBuffer(capacity: pieceSize)]
        filled = [nil, nil]
    }

    deinit {
        try? buffered.close()
        try? direct?.close()
    }

    /// The file's size, for a range that runs to its end.
    func size() throws(BlockKeys.Failure) -> UInt64 {
        do {
            return try buffered.sizeInBytes()
        } catch {
            throw .io(path: path, operation: "finding the size of", errno: error.rawValue)
        }
    }

    /// Hands `body` the `count` bytes from `offset`, in order, a piece at a time; every piece
    /// but the last fills a buffer and is a whole multiple of `unit`.
    func forEachPiece(from offset: UInt64, count: UInt64, unit: Int,
                      _ body: (UnsafeRawBufferPointer) -> Void) throws(BlockKeys.Failure) {
        let pieceSize = buffers[0].bytes.count / unit * unit
        let reader = JoinableThread { [self] in readAhead(from: offset, count: count, pieceSize: pieceSize) }
        defer {
            condition.locked {
                stopped = true
                condition.broadcast()
            }
            reader.join()
        }
        var done: UInt64 = 0
        var piece = 0
        while done < count {
            let buffer = piece % 2
            let length: Int? = condition.locked {
                condition.wait { filled[buffer] != nil || failure != nil }
                return filled[buffer]
            }
            guard let length else {
                throw condition.locked { failure ?? .truncated(path: path) }
            }
            body(UnsafeRawBufferPointer(rebasing: buffers[buffer].bytes[0..<length]))
            condition.locked {
                filled[buffer] = nil
                condition.broadcast()
            }
            done += UInt64(length)
            piece += 1
        }
    }

    private func readAhead(from offset: UInt64, count: UInt64, pieceSize: Int) {
        var done: UInt64 = 0
        var piece = 0
        while done < count {
            let buffer = piece % 2
            let free = condition.locked {
                condition.wait { filled[buffer] == nil || stopped }
                return !stopped
            }
            guard free else { return }
            let length = Int(min(UInt64(pieceSize), count - done))
            let result = read(at: offset + done, into: UnsafeMutableRawBufferPointer(rebasing: buffers[buffer].bytes[0..<length]))
            condition.locked {
                if let result {
                    failure = result
                } else {
                    filled[buffer] = length
                }
                condition.broadcast()
            }
            guard result == nil else { return }
            done += UInt64(length)
            piece += 1
        }
    }

    /// Reads `space` from `position`; the failure, if any.
    private func read(at position: UInt64, into space: UnsafeMutableRawBufferPointer) -> BlockKeys.Failure? {
        do {
            if let direct, position % UInt64(AlignedBuffer.alignment) == 0, space.count % AlignedBuffer.alignment == 0 {
                do {
                    try direct.readExactly(fromAbsoluteOffset: Int64(position), into: space)
                    return nil
                } catch Errno.invalidArgument {
                    // The device or file system refuses this transfer uncached: the rest goes
                    // through the cache.
                    try? direct.close()
                    self.direct = nil
                }
            }
            try buffered.readExactly(fromAbsoluteOffset: Int64(position), into: space)
            return nil
        } catch {
            return BlockKeys.readFailure(error, path: path)
        }
    }
}
