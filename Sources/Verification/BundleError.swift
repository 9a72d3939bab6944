/// Why the bytes before a bundle's image (header, manifest, signature block) cannot be used.
/// Nothing here involves trust: a bundle that parses may still be unsigned or forged.
public enum BundleError: Error, Equatable, CustomStringConvertible {
    /// Fewer bytes than the header says the preamble occupies.
    case truncated(needed: Int, available: Int)
    /// Not a bundle. What the file starts with is never quoted: the file may be a secret (root
    /// may install any path, and the message ends up in `LastResult`, which anyone can read).
    case badMagic
    case unsupportedVersion(UInt32)
    case badHeaderLength(UInt32)
    case sectionTooLong(section: String, length: UInt32, limit: Int)
    case imageTooLong(UInt64)
    case badArtifactsLength(UInt64, limit: UInt64)
    /// `manifest` is nil when the listed sizes overflow.
    case artifactsLengthMismatch(header: UInt64, manifest: UInt64?)
    case badImageOffset(stored: UInt64, expected: UInt64)
    case reservedNotZero(offset: Int)
    case paddingNotZero(offset: Int)
    case malformedManifest(String)
    case malformedSignatures(String)
    case badTableLength(stored: UInt64, expected: UInt64?)
    case chunkTableMismatch(String)

    private static let rebuild = "rebuild the bundle with 'updatectl image create'"

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            return "the bundle ends after \(available) bytes, but its header and metadata need \(needed); "
                + "the download or copy was cut short; fetch the bundle again"
        case .badMagic:
            return "not a Tandem bundle: it does not start with \"TNDMBNDL\"; "
                + "pass a bundle made by 'updatectl image create', not a raw image"
        case let .unsupportedVersion(version):
            return "bundle format version \(version) is not supported; this Tandem reads versions "
                + "\(BundleHeader.formatVersion), \(BundleHeader.artifactsFormatVersion) and \(BundleHeader.chunkedFormatVersion); update Tandem, "
                + "or \(BundleError.rebuild) of a supported version"
        case let .badHeaderLength(length):
            return "the bundle header claims to be \(length) bytes long, but format version 1 headers are "
                + "\(BundleHeader.size); the file is damaged; \(BundleError.rebuild)"
        case let .sectionTooLong(section, length, limit):
            return "the bundle's \(section) is \(length) bytes long, over the limit of \(limit); "
                + "the file is damaged or not a Tandem bundle; \(BundleError.rebuild)"
        case let .imageTooLong(length):
            return "the bundle header gives an image length of \(length) bytes, more than any file can hold; "
                + "the file is damaged; \(BundleError.rebuild)"
        case let .badArtifactsLength(length, limit):
            return "the bundle header gives the boot artifacts a length of \(length) bytes; a version 2 bundle "
                + "has 1 to \(limit); the file is damaged; \(BundleError.rebuild)"
        case let .artifactsLengthMismatch(header, manifest):
            return "the bundle header gives the boot artifacts \(header) bytes, but the manifest lists "
                + "\(manifest.map { "\($0)" } ?? "more than any file can hold"); "
                + "the header was tampered with or damaged; fetch the bundle again"
        case let .badImageOffset(stored, expected):
            return "the bundle header puts the image at offset \(stored), but its lengths put it at \(expected); "
                + "the file is damaged; \(BundleError.rebuild)"
        case let .reservedNotZero(offset):
            return "reserved header byte \(offset) is not zero; the bundle was made by a newer or foreign tool, "
                + "or is damaged; \(BundleError.rebuild)"
        case let .paddingNotZero(offset):
            return "padding byte at offset \(offset), before the image, is not zero; the file is damaged; "
                + "\(BundleError.rebuild)"
        case let .malformedManifest(detail):
            return "the bundle manifest is invalid: \(detail)"
        case let .malformedSignatures(detail):
            return "the bundle's signature block is invalid: \(detail)"
        case let .badTableLength(stored, expected?):
            return "the bundle header gives the chunk table \(stored) bytes, but the manifest's image size "
                + "and chunk size make it \(expected); the header was tampered with or damaged; fetch the bundle again"
        case let .badTableLength(stored, nil):
            return "the bundle header gives the chunk table \(stored) bytes; a version 3 bundle has 1 to "
                + "\(BundleHeader.maximumTableLength); the file is damaged; \(BundleError.rebuild)"
        case let .chunkTableMismatch(detail):
            return "the bundle's chunk table is not the one its signed manifest names: \(detail); "
                + "the download was damaged or tampered with; fetch the bundle again"
        }
    }
}
