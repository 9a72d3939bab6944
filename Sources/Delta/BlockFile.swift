import Verification

/// A bundle's **block file** (`BUNDLE.blocks`, published beside it): every 4096-byte block of the
/// image compressed on its own with zstd, so that a delta downloads the blocks it lacks
/// compressed. Layout (docs/bundle-format.md, "Block file"), integers little-endian:
///
///     0   "TANDEMBF"                 8 bytes
///     8   version                    UInt32 (1)
///     12  flags                      UInt32 (0)
///     16  block count                UInt64
///     24  image size                 UInt64
///     32  image SHA-256              32 bytes
///     64  (block count + 1) offsets  UInt64 each: where each block's stored bytes start,
///                                    counted from the data; the last one is the data's length
///     …   data
///
/// A block stored in as many bytes as it has is stored raw; in fewer, it is a zstd frame that
/// must expand to exactly the block. Nothing in the file is signed, nor needs to be: every
/// block taken from it lands in a chunk that is proven against the signed chunk table before it
/// is written, and a block file that lies only costs its chunk a second download.
public struct BlockFileHeader: Equatable, Sendable {
    /// What the block file's name adds to the bundle's.
    public static let fileSuffix = ".blocks"
    public static let magic = Array("TANDEMBF".utf8)
    public static let version: UInt32 = 1
    public static let size = 64
    public static let offsetLength: UInt64 = 8

    public let blockCount: UInt64
    public let imageSize: UInt64
    public let imageSHA256: [UInt8]

    public init(blockCount: UInt64, imageSize: UInt64, imageSHA256: [UInt8]) {
        self.blockCount = blockCount
        self.imageSize = imageSize
        self.imageSHA256 = imageSHA256
    }

    /// Why a header does not describe the image a delta installs.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notABlockFile
        case unsupportedVersion(UInt32)
        case otherImage

        public var description: String {
            switch self {
            case .notABlockFile: "it is not a Tandem block file"
            case let .unsupportedVersion(version): "its version \(version) is not one this Tandem reads (1)"
            case .otherImage: "it describes another image than the bundle's"
            }
        }
    }

    /// Parses the first `size` bytes, and checks that they describe the image of `layout`
    /// whose SHA-256 is `imageSHA256`.
    public static func parse(_ bytes: [UInt8], layout: ChunkLayout, imageSHA256: [UInt8]) throws(Refusal) -> BlockFileHeader {
        var reader = ByteReader(bytes[...])
        guard reader.take(magic.count) == magic, let version = reader.integer(UInt32.self), let _ = reader.integer(UInt32.self),
              let blockCount = reader.integer(UInt64.self), let imageSize = reader.integer(UInt64.self),
              let digest = reader.take(SHA256.digestLength) else { throw .notABlockFile }
        guard version == BlockFileHeader.version else { throw .unsupportedVersion(version) }
        guard blockCount == layout.blockCount, imageSize == layout.imageSize, digest == imageSHA256 else { throw .otherImage }
        return BlockFileHeader(blockCount: blockCount, imageSize: imageSize, imageSHA256: digest)
    }

    public func serialized() -> [UInt8] {
        var bytes = BlockFileHeader.magic
        bytes.appendLittleEndian(BlockFileHeader.version)
        bytes.appendLittleEndian(UInt32(0))
        bytes.appendLittleEndian(blockCount)
        bytes.appendLittleEndian(imageSize)
        return bytes + imageSHA256
    }

    /// Where the data starts: after the header and the offsets. `parse` checked the block count
    /// against the image's layout, which bounds it by 2^54: no overflow.
    public var dataOffset: UInt64 { UInt64(BlockFileHeader.size) + (blockCount + 1) * BlockFileHeader.offsetLength }

    /// The bytes of block `block`'s offset entry.
    public func offsetEntry(_ block: UInt64) -> Range<UInt64> {
        let start = UInt64(BlockFileHeader.size) + block * BlockFileHeader.offsetLength
        return start..<(start + BlockFileHeader.offsetLength)
    }

    /// Block `block`'s length in the image: 4096, or less for the last one.
    public func rawLength(of block: UInt64) -> UInt64 {
        min(ChunkLayout.blockSize, imageSize - min(imageSize, block * ChunkLayout.blockSize))
    }

    /// Why a run's offset entries cannot be used.
    public enum EntryError: Error, Equatable, CustomStringConvertible {
        case wrongCount
        case storedLength(block: UInt64)
        case pastFileEnd

        public var description: String {
            switch self {
            case .wrongCount: "the offsets read are not the run's"
            case let .storedLength(block): "block \(block)'s stored length is not 1 byte to its block's"
            case .pastFileEnd: "an offset lies past what a file can hold"
            }
        }
    }

    /// Checks the offset entries of blocks `run` (`run.count + 1` of them, as read from the
    /// file) before anything is fetched by them: each block is stored in 1 byte up to its own
    /// length, so a lying offset cannot make a frame outgrow its block or the data its buffer.
    /// Returns where the run's stored bytes lie in the file.
    public func storedRange(of run: Range<UInt64>, entries: UnsafeRawBufferPointer) throws(EntryError) -> Range<UInt64> {
        guard run.upperBound <= blockCount, entries.count == (run.count + 1) * Int(BlockFileHeader.offsetLength) else {
            throw .wrongCount
        }
        var previous = BlockFileHeader.entry(entries, 0)
        for (index, block) in run.enumerated() {
            let next = BlockFileHeader.entry(entries, index + 1)
            guard next > previous, next - previous <= rawLength(of: block) else { throw .storedLength(block: block) }
            previous = next
        }
        let first = BlockFileHeader.entry(entries, 0)
        let (start, overflow) = dataOffset.addingReportingOverflow(first)
        guard !overflow, start <= UInt64.max - (previous - first) else { throw .pastFileEnd }
        return start..<(start + (previous - first))
    }

    /// Offset entry `index` of `entries`.
    public static func entry(_ entries: UnsafeRawBufferPointer, _ index: Int) -> UInt64 {
        let start = index * Int(offsetLength)
        return (0..<Int(offsetLength)).reduce(UInt64(0)) { $0 | UInt64(entries[start + $1]) << (8 * $1) }
    }
}
