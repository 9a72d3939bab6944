/// The chunking of a format 3 bundle's image, as its signed manifest states it: the image is
/// cut into `chunkSize` chunks (the last one shorter), each verified against its SHA-256 in the
/// chunk table before any of its bytes are written, and into 4096-byte blocks, each with a
/// lookup key. Layout and limits in docs/bundle-format.md ("Format 3").
public struct ChunkLayout: Equatable, Sendable {
    /// The slot's block size: what a file system moves files by, so what a delta looks up.
    public static let blockSize: UInt64 = 4096
    public static let digestLength = SHA256.digestLength
    /// A block's lookup key: the first 8 bytes of its SHA-256. It only finds candidates; every
    /// byte written is proven by its chunk's full digest.
    public static let keyLength = 8
    /// Chunks are powers of two in this range: the installer holds a few of them in memory.
    public static let chunkSizes: ClosedRange<UInt64> = (64 << 10)...(1 << 20)
    public static let defaultChunkSize: UInt64 = 1 << 20
    /// The chunk digests are kept in memory for the whole install: at most 8 MiB of them.
    public static let maximumChunkCount: UInt64 = 1 << 18

    public let imageSize: UInt64
    public let chunkSize: UInt64

    /// Nil unless `chunkSize` is a power of two in `chunkSizes` and the image is 1 byte to
    /// `maximumChunkCount` chunks long.
    public init?(imageSize: UInt64, chunkSize: UInt64) {
        guard ChunkLayout.chunkSizes.contains(chunkSize), chunkSize & (chunkSize - 1) == 0, imageSize > 0,
              (imageSize - 1) / chunkSize < ChunkLayout.maximumChunkCount else { return nil }
        self.imageSize = imageSize
        self.chunkSize = chunkSize
    }

    public var chunkCount: Int { Int((imageSize - 1) / chunkSize + 1) }
    public var blockCount: UInt64 { (imageSize - 1) / ChunkLayout.blockSize + 1 }

    /// The table's length: every chunk's digest, then every block's key. At most 2^18 × 32
    /// bytes plus 2^54 × 8 bytes: no overflow.
    public var tableLength: UInt64 {
        UInt64(chunkCount) * UInt64(ChunkLayout.digestLength) + blockCount * UInt64(ChunkLayout.keyLength)
    }

    /// Where the block keys start in the table.
    public var keysOffset: UInt64 { UInt64(chunkCount) * UInt64(ChunkLayout.digestLength) }

    /// The image bytes of chunk `index`.
    public func chunkRange(_ index: Int) -> Range<UInt64> {
        let start = UInt64(index) * chunkSize
        return start..<min(imageSize, start + chunkSize)
    }
}

/// Computes a format 3 bundle's chunk table from its image, fed in order: used when a bundle is
/// made (`BundleWriter`), and to read a slot's chunk table back.
public final class ChunkTableBuilder {
    public let layout: ChunkLayout
    /// The table as it goes into the bundle.
    public private(set) var table: [UInt8]
    private let chunkHasher = SHA256()
    private let blockHasher = SHA256()
    private var position: UInt64 = 0
    private var digest = [UInt8](repeating: 0, count: SHA256.digestLength)

    public init(layout: ChunkLayout) {
        self.layout = layout
        table = []
        table.reserveCapacity(Int(clamping: layout.tableLength))
        // The digests go first; their slots are filled as each chunk ends.
        table.append(contentsOf: repeatElement(0, count: Int(layout.keysOffset)))
    }

    /// The next bytes of the image, in order.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        var consumed = 0
        while consumed < bytes.count {
            let chunkEnd = min(layout.imageSize, (position / layout.chunkSize + 1) * layout.chunkSize)
            let blockEnd = min(chunkEnd, (position / ChunkLayout.blockSize + 1) * ChunkLayout.blockSize)
            let count = Int(min(UInt64(bytes.count - consumed), blockEnd - position))
            let piece = UnsafeRawBufferPointer(rebasing: bytes[consumed..<(consumed + count)])
            chunkHasher.update(piece)
            blockHasher.update(piece)
            position += UInt64(count)
            consumed += count
            if position == blockEnd {
                blockHasher.finalize(into: &digest)
                table.append(contentsOf: digest[0..<ChunkLayout.keyLength])
                blockHasher.reset()
            }
            if position == chunkEnd {
                chunkHasher.finalize(into: &digest)
                let start = Int((position - 1) / layout.chunkSize) * ChunkLayout.digestLength
                table.replaceSubrange(start..<(start + ChunkLayout.digestLength), with: digest)
                chunkHasher.reset()
            }
        }
    }

    /// Whether exactly the image's bytes were fed.
    public var isComplete: Bool { position == layout.imageSize }
}

/// Reads a format 3 bundle's chunk table as it arrives, after the signature was verified: it
/// hashes the table, keeps the chunk digests (at most 8 MiB) and only hashes the block keys,
/// so that its memory does not grow with the image, and checks the zero padding up to the
/// image. `finish` compares the table's digest with the signed manifest's. The block keys go
/// to `blockKey` one by one, as they arrive, for whoever plans a delta from them; they are
/// proven only once `finish` returns.
public final class ChunkTableReader {
    public let layout: ChunkLayout
    private let expectedSHA256: [UInt8]
    private let paddedLength: UInt64
    private let hasher = SHA256()
    private var digests: [UInt8]
    private var position: UInt64 = 0
    private let blockKey: ((UInt64) -> Void)?
    /// The bytes of a key that arrived split across two pieces, as a number so far.
    private var partialKey: UInt64 = 0

    /// `regionLength`: the bytes from the table's start to the image's, table and padding.
    /// `blockKey`: called with each block's lookup key, in image order.
    public init(layout: ChunkLayout, tableSHA256: [UInt8], regionLength: UInt64, blockKey: ((UInt64) -> Void)? = nil) {
        self.layout = layout
        expectedSHA256 = tableSHA256
        paddedLength = regionLength
        self.blockKey = blockKey
        digests = []
        digests.reserveCapacity(Int(layout.keysOffset))
    }

    /// The next bytes of the region, in order.
    public func update(_ bytes: UnsafeRawBufferPointer) throws(BundleError) {
        guard UInt64(bytes.count) <= paddedLength - position else {
            throw .chunkTableMismatch("more bytes arrived than the table and its padding hold")
        }
        let tableRemaining = layout.tableLength - min(position, layout.tableLength)
        let tablePart = Int(min(UInt64(bytes.count), tableRemaining))
        if tablePart > 0 {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[0..<tablePart])
            hasher.update(piece)
            let digestsRemaining = layout.keysOffset - min(position, layout.keysOffset)
            let digestPart = Int(min(UInt64(tablePart), digestsRemaining))
            digests.append(contentsOf: piece[0..<digestPart])
            if let blockKey, digestPart < tablePart {
                emitKeys(UnsafeRawBufferPointer(rebasing: piece[digestPart...]), from: position + UInt64(digestPart), to: blockKey)
            }
        }
        if let nonzero = bytes[tablePart...].firstIndex(where: { $0 != 0 }) {
            throw .paddingNotZero(offset: Int(clamping: position + UInt64(nonzero)))
        }
        position += UInt64(bytes.count)
    }

    /// Hands on each key completed by `bytes`, which start at table offset `offset` (in the key section).
    private func emitKeys(_ bytes: UnsafeRawBufferPointer, from offset: UInt64, to blockKey: (UInt64) -> Void) {
        var within = Int((offset - layout.keysOffset) % UInt64(ChunkLayout.keyLength))
        for byte in bytes {
            partialKey = partialKey << 8 | UInt64(byte)
            within += 1
            if within == ChunkLayout.keyLength {
                blockKey(partialKey)
                partialKey = 0
                within = 0
            }
        }
    }

    /// The table, once all of it arrived and its digest is the signed one.
    public func finish() throws(BundleError) -> ChunkDigests {
        guard position == paddedLength else {
            throw .chunkTableMismatch("it ended after \(position) of \(paddedLength) bytes")
        }
        let digest = hasher.finalize()
        guard digest == expectedSHA256 else {
            throw .chunkTableMismatch("its SHA-256 is \(hexString(digest)), but the signed manifest says "
                + hexString(expectedSHA256))
        }
        return ChunkDigests(layout: layout, bytes: digests)
    }
}

/// The verified digest of every chunk of an image, in image order.
public struct ChunkDigests: Sendable {
    public let layout: ChunkLayout
    private let bytes: [UInt8]

    init(layout: ChunkLayout, bytes: [UInt8]) {
        self.layout = layout
        self.bytes = bytes
    }

    /// Whether `digest` is chunk `index`'s; false for an index outside the table.
    public func matches(_ digest: UnsafeRawBufferPointer, chunk index: Int) -> Bool {
        guard index >= 0, index < layout.chunkCount, digest.count == ChunkLayout.digestLength else { return false }
        let start = index * ChunkLayout.digestLength
        return bytes[start..<(start + ChunkLayout.digestLength)].elementsEqual(digest)
    }
}
