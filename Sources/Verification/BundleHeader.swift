/// The fixed 64-byte header at the start of every bundle (layout in docs/bundle-format.md).
///
/// The header is not signed. Every field is therefore either derived from the other fields
/// (`imageOffset`), checked against the signed manifest (`imageLength`), or only bounds how
/// much is read before the signature is checked (the two section lengths).
public struct BundleHeader: Equatable, Sendable {
    public static let size = 64
    public static let magic: [UInt8] = Array("TNDMBNDL".utf8)
    /// The version of a bundle without boot artifacts, which every Tandem reads.
    public static let formatVersion: UInt32 = 1
    /// The version of a bundle with boot artifacts after the image. It adds `artifactsLength`
    /// at offset 40; a Tandem that reads only version 1 refuses it by its version, so that it
    /// never installs the image without the kernel the image needs.
    public static let artifactsFormatVersion: UInt32 = 2
    /// The version of a bundle with a chunk table between the signature block and the image
    /// (`tableLength` at offset 48), with or without artifacts.
    public static let chunkedFormatVersion: UInt32 = 3
    /// The longest chunk table `ChunkLayout` allows: 2^18 digests and the keys of 2^18 MiB.
    public static let maximumTableLength: UInt64 = (ChunkLayout.maximumChunkCount * UInt64(ChunkLayout.digestLength))
        + (ChunkLayout.maximumChunkCount * ChunkLayout.chunkSizes.upperBound / ChunkLayout.blockSize) * UInt64(ChunkLayout.keyLength)
    /// Three artifacts of at most `BundleArtifact.maximumSize` each.
    public static let maximumArtifactsLength = 3 * BundleArtifact.maximumSize
    /// Manifest and signature block are each read whole into memory before anything is
    /// trusted, so an attacker-controlled length must not make that allocation large.
    public static let maximumSectionLength = 64 << 10
    /// The image starts on a page boundary so that a reader can use O_DIRECT on the bundle.
    public static let imageAlignment: UInt64 = 4096

    public var formatVersion: UInt32
    public var manifestLength: Int
    public var signaturesLength: Int
    public var imageOffset: UInt64
    public var imageLength: UInt64
    /// The boot artifacts' bytes after the image, 0 for a version 1 bundle.
    public var artifactsLength: UInt64
    /// The chunk table's bytes, version 3 only (0 in versions 1 and 2).
    public var tableLength: UInt64

    /// The header for the given sections, with the offsets they imply: version 3 when there is
    /// a chunk table, else version 2 exactly when there are artifacts.
    public init(manifestLength: Int, signaturesLength: Int, imageLength: UInt64, artifactsLength: UInt64 = 0,
                tableLength: UInt64 = 0) {
        formatVersion = tableLength > 0 ? BundleHeader.chunkedFormatVersion
            : artifactsLength == 0 ? BundleHeader.formatVersion : BundleHeader.artifactsFormatVersion
        self.artifactsLength = artifactsLength
        self.tableLength = tableLength
        self.manifestLength = manifestLength
        self.signaturesLength = signaturesLength
        imageOffset = BundleHeader.imageOffset(manifestLength: manifestLength, signaturesLength: signaturesLength)
            + BundleHeader.aligned(tableLength)
        self.imageLength = imageLength
    }

    /// Where the chunk table starts (version 3): the signed preamble rounded up to 4096 bytes.
    public var tableOffset: UInt64 {
        BundleHeader.imageOffset(manifestLength: manifestLength, signaturesLength: signaturesLength)
    }

    /// The bytes read and parsed before the signature is checked: up to the image in versions 1
    /// and 2, up to the chunk table in version 3 (the table is read after, against its signed digest).
    public var preambleLength: UInt64 { tableLength > 0 ? tableOffset : imageOffset }

    static func aligned(_ length: UInt64) -> UInt64 {
        (length + imageAlignment - 1) / imageAlignment * imageAlignment
    }

    /// Header, manifest and signature block, rounded up to the next multiple of 4096.
    /// Where the artifacts start: right after the image.
    public var artifactsOffset: UInt64 { imageOffset + imageLength }
    /// The length of the whole bundle file. `parse` guarantees that the sum fits in an Int64.
    public var bundleLength: UInt64 { imageOffset + imageLength + artifactsLength }

    public static func imageOffset(manifestLength: Int, signaturesLength: Int) -> UInt64 {
        aligned(UInt64(size + manifestLength + signaturesLength))
    }

    /// Parses the first 64 bytes of `bytes`, rejecting anything but the one valid encoding.
    public static func parse(_ bytes: [UInt8]) throws(BundleError) -> BundleHeader {
        guard bytes.count >= size else { throw .truncated(needed: size, available: bytes.count) }
        var reader = ByteReader(bytes[0..<size])
        // The reads below cannot run out: `size` bytes are there and the fields fill exactly 40.
        let magic = reader.take(8) ?? []
        guard magic == BundleHeader.magic else { throw .badMagic }
        let version: UInt32 = reader.integer() ?? 0
        guard [formatVersion, artifactsFormatVersion, chunkedFormatVersion].contains(version) else {
            throw .unsupportedVersion(version)
        }
        let headerLength: UInt32 = reader.integer() ?? 0
        guard headerLength == size else { throw .badHeaderLength(headerLength) }
        let manifestLength: UInt32 = reader.integer() ?? 0
        let signaturesLength: UInt32 = reader.integer() ?? 0
        for (section, length) in [("manifest", manifestLength), ("signature block", signaturesLength)]
        where length > maximumSectionLength {
            throw .sectionTooLong(section: section, length: length, limit: maximumSectionLength)
        }
        let imageOffset: UInt64 = reader.integer() ?? 0
        let imageLength: UInt64 = reader.integer() ?? 0
        // Version 1 has reserved (zero) bytes where versions 2 and 3 store the artifacts' length,
        // and version 3 the chunk table's after it.
        let artifactsLength: UInt64 = version == formatVersion ? 0 : reader.integer() ?? 0
        let tableLength: UInt64 = version == chunkedFormatVersion ? reader.integer() ?? 0 : 0
        if version == artifactsFormatVersion {
            guard (1...maximumArtifactsLength).contains(artifactsLength) else {
                throw .badArtifactsLength(artifactsLength, limit: maximumArtifactsLength)
            }
        }
        if version == chunkedFormatVersion {
            guard artifactsLength <= maximumArtifactsLength else {
                throw .badArtifactsLength(artifactsLength, limit: maximumArtifactsLength)
            }
            guard (1...maximumTableLength).contains(tableLength) else {
                throw .badTableLength(stored: tableLength, expected: nil)
            }
        }
        let header = BundleHeader(manifestLength: Int(manifestLength), signaturesLength: Int(signaturesLength),
                                  imageLength: imageLength, artifactsLength: artifactsLength, tableLength: tableLength)
        guard imageOffset == header.imageOffset else {
            throw .badImageOffset(stored: imageOffset, expected: header.imageOffset)
        }
        // Offsets into the file are signed 64-bit for pread and lseek.
        guard imageLength <= UInt64(Int64.max) - imageOffset else { throw .imageTooLong(imageLength) }
        guard artifactsLength <= UInt64(Int64.max) - imageOffset - imageLength else { throw .imageTooLong(imageLength) }
        if let nonzero = bytes[reader.offset..<size].firstIndex(where: { $0 != 0 }) {
            throw .reservedNotZero(offset: nonzero)
        }
        return header
    }

    public func serialized() -> [UInt8] {
        var bytes = BundleHeader.magic
        bytes.reserveCapacity(BundleHeader.size)
        bytes.appendLittleEndian(formatVersion)
        bytes.appendLittleEndian(UInt32(BundleHeader.size))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: manifestLength))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: signaturesLength))
        bytes.appendLittleEndian(imageOffset)
        bytes.appendLittleEndian(imageLength)
        if formatVersion != BundleHeader.formatVersion { bytes.appendLittleEndian(artifactsLength) }
        if formatVersion == BundleHeader.chunkedFormatVersion { bytes.appendLittleEndian(tableLength) }
        bytes += [UInt8](repeating: 0, count: BundleHeader.size - bytes.count)
        return bytes
    }
}
