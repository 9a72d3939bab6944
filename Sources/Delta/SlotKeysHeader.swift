import Verification

/// The header of a **slot keys record** (`<state>/slot-keys/<partition GUID>.keys`): the block
/// keys of the image an install wrote to a slot, kept so that a later delta from that slot,
/// once it is the booted one, looks its blocks up without hashing all of it. Layout
/// (docs/streaming.md, "Recorded slot keys"), integers little-endian:
///
///     0   "TANDEMSK"           8 bytes
///     8   version              UInt32 (1)
///     12  header length        UInt32: where the keys start (64; a later writer may add fields)
///     16  block count          UInt64: the image's blocks, the last one possibly partial
///     24  image size           UInt64
///     32  image SHA-256        32 bytes
///     …   keys                 8 bytes per block, as in the chunk table (a SHA-256's first bytes)
///
/// A record only proposes, like the keys it holds: a sample of the slot's blocks must hash to
/// their recorded keys before it is used, and every block copied is still proven with its chunk.
/// A record that is absent, unreadable, of another version or stale costs a hashing pass.
public struct SlotKeysHeader: Equatable, Sendable {
    public static let magic = Array("TANDEMSK".utf8)
    public static let version: UInt32 = 1
    public static let size = 64
    /// Longest header a reader skips: fields a later version 1 writer may add.
    public static let maximumSize: UInt32 = 4096

    public let imageSize: UInt64
    public let imageSHA256: [UInt8]
    /// Where the keys start in the file.
    public let keysOffset: UInt64

    public init(imageSize: UInt64, imageSHA256: [UInt8]) {
        self.imageSize = imageSize
        self.imageSHA256 = imageSHA256
        keysOffset = UInt64(SlotKeysHeader.size)
    }

    private init(imageSize: UInt64, imageSHA256: [UInt8], keysOffset: UInt64) {
        self.imageSize = imageSize
        self.imageSHA256 = imageSHA256
        self.keysOffset = keysOffset
    }

    /// The image's blocks, the last one possibly partial. `parse` bounds it by 2^52.
    public var blockCount: UInt64 { imageSize == 0 ? 0 : (imageSize - 1) / ChunkLayout.blockSize + 1 }

    /// The image's whole blocks: the ones a delta may look up (a slot is read in whole blocks,
    /// so the key of a partial last block never matches one).
    public var wholeBlocks: UInt64 { imageSize / ChunkLayout.blockSize }

    /// The length a file with this header must have, exactly.
    public var fileLength: UInt64 { keysOffset + blockCount * UInt64(ChunkLayout.keyLength) }

    /// Parses a header from the first bytes of a file of `fileLength` bytes (at least `size`
    /// of them; more are ignored), and checks that the file holds exactly its keys.
    public static func parse(_ bytes: ArraySlice<UInt8>, fileLength: UInt64) throws(SlotKeysRefusal) -> SlotKeysHeader {
        var reader = ByteReader(bytes)
        guard reader.take(magic.count) == magic, let version = reader.integer(UInt32.self),
              let headerLength = reader.integer(UInt32.self), let blockCount = reader.integer(UInt64.self),
              let imageSize = reader.integer(UInt64.self), let digest = reader.take(SHA256.digestLength) else {
            throw .notARecord
        }
        guard version == SlotKeysHeader.version else { throw .unsupportedVersion(version) }
        guard headerLength >= UInt32(SlotKeysHeader.size), headerLength <= maximumSize else { throw .inconsistent }
        let header = SlotKeysHeader(imageSize: imageSize, imageSHA256: digest, keysOffset: UInt64(headerLength))
        // Image sizes below 2^64 keep the block count below 2^52 and the file length below 2^56.
        guard imageSize > 0, blockCount == header.blockCount, fileLength == header.fileLength else { throw .inconsistent }
        return header
    }

    public func serialized() -> [UInt8] {
        var bytes = SlotKeysHeader.magic
        bytes.appendLittleEndian(SlotKeysHeader.version)
        bytes.appendLittleEndian(UInt32(keysOffset))
        bytes.appendLittleEndian(blockCount)
        bytes.appendLittleEndian(imageSize)
        return bytes + imageSHA256
    }
}

/// Why a slot's recorded keys were not used, and the slot was hashed instead.
public enum SlotKeysRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// No install recorded this slot's keys (a slot written otherwise, or a state directory lost).
    case absent
    case unreadable(String)
    case notARecord
    case unsupportedVersion(UInt32)
    /// The header contradicts itself or the file's length.
    case inconsistent
    /// A sampled block no longer hashes to its recorded key: the slot was written since.
    case slotChanged(block: UInt64)

    public var description: String {
        switch self {
        case .absent: "no install recorded the booted slot's keys"
        case let .unreadable(detail): "the booted slot's recorded keys cannot be read: \(detail)"
        case .notARecord: "the booted slot's recorded keys are not a Tandem slot keys record"
        case let .unsupportedVersion(version): "the booted slot's recorded keys are version \(version), not one this Tandem reads (1)"
        case .inconsistent: "the booted slot's recorded keys do not match their own header"
        case let .slotChanged(block): "block \(block) of the booted slot no longer matches its recorded key"
        }
    }
}
