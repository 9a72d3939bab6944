import SystemPackage

/// Why a bundle file could not be read, checked, created or signed.
public enum BundleFileError: Error, Equatable, CustomStringConvertible {
    case ioFailed(path: String, operation: String, errno: Int32)
    case invalid(path: String, BundleError)
    case truncated(path: String, expected: UInt64, actual: UInt64)
    case trailingBytes(path: String, count: UInt64)
    case imageSizeMismatch(path: String, header: UInt64, manifest: UInt64)
    case imageHashMismatch(path: String, expected: String, actual: String)
    case chunkTableMismatch(path: String, detail: String)
    case imageChanged(path: String)
    case artifactHashMismatch(path: String, kind: String, expected: String, actual: String)
    case artifactTooLarge(path: String, size: UInt64, limit: UInt64)
    case invalidManifest(BundleError)
    case alreadySigned(path: String, keyID: String)
    case signing(KeyError)

    public var description: String {
        switch self {
        case let .ioFailed(path, operation, code):
            let error = Errno(rawValue: code)
            let hint = switch error {
            case .noSuchFileOrDirectory, .notDirectory: "check the path"
            case .permissionDenied, .notPermitted, .readOnlyFileSystem: "check the permissions, or run as a user who may access it"
            case .noSpace, .diskQuotaExceeded: "free some space"
            default: "check the file and the device it is on"
            }
            return "\(operation) \(path) failed: \(error); \(hint)"
        case let .invalid(path, error):
            return "\(path): \(error)"
        case let .truncated(path, expected, actual):
            return "\(path) is truncated: it holds \(actual) bytes, but its header says the image ends at byte "
                + "\(expected); the download or copy was cut short; fetch the bundle again"
        case let .trailingBytes(path, count):
            return "\(path) has \(count) extra bytes after the image; it is not the file that was built; "
                + "fetch the bundle again, or rebuild it"
        case let .imageSizeMismatch(path, header, manifest):
            return "the header of \(path) gives an image length of \(header) bytes, but the manifest says \(manifest); "
                + "the bundle was tampered with or damaged; fetch it again"
        case let .artifactHashMismatch(path, kind, expected, actual):
            return "the \(kind) in \(path) has SHA-256 \(actual), but the manifest says \(expected); "
                + "the bundle was tampered with or damaged; fetch it again"
        case let .artifactTooLarge(path, size, limit):
            return "\(path) is \(size) bytes; a boot artifact may be at most \(limit) bytes"
        case let .imageHashMismatch(path, expected, actual):
            return "the image in \(path) has SHA-256 \(actual), but the manifest says \(expected); the image was "
                + "tampered with or damaged; fetch the bundle again"
        case let .chunkTableMismatch(path, detail):
            return "\(path): \(detail); the bundle was tampered with or damaged; fetch it again, or rebuild it"
        case let .imageChanged(path):
            return "\(path) changed while it was being read; nothing was written; wait for whatever writes it to "
                + "finish, then try again"
        case let .invalidManifest(error):
            return "\(error)"
        case let .alreadySigned(path, keyID):
            return "key \(keyID) has already signed \(path); a key signs a bundle once; sign with a different key"
        case let .signing(error):
            return "\(error)"
        }
    }
}
