import FoundationEssentials
import HTTP
import Verification

/// Where a bundle comes from. Reading the preamble (header, manifest, signatures) comes first,
/// so that everything can be checked before the first image byte reaches the disk.
public protocol BundleSource: AnyObject, CustomStringConvertible {
    func readPreamble() throws -> BundlePreamble
    /// The image bytes, addressed from the start of the image.
    func imageSource(for preamble: BundlePreamble) throws -> ChunkSource
    /// What identifies this copy of the bundle to its server (an ETag), for resuming.
    var validator: String? { get }
}

/// Opens a local path, a `file://` URL or an `http(s)://` URL. `cancellation` ends a download's
/// transfers and its waits between retries at once (a cancel, or the service stopping).
public func openBundle(_ location: String, http: HTTPOptions, cancellation: any TransferCancellation) throws -> BundleSource {
    let lowered = location.lowercased()
    if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
        return HTTPBundleSource(url: location, options: http, cancellation: cancellation)
    }
    if lowered.hasPrefix("file://") {
        guard let url = URL(string: location), url.isFileURL, !url.path.isEmpty else {
            throw StreamError.unsupportedSource(location)
        }
        return FileBundleSource(path: url.path)
    }
    if location.contains("://") || urlScheme(of: location) != nil {
        throw StreamError.unsupportedSource(location)
    }
    return FileBundleSource(path: location)
}

/// The scheme of a location that starts like a URL (`file:`, `http:`: RFC 3986's letter, then
/// letters, digits, `+`, `-` or `.`, then a colon), so that `file:/etc/passwd` is called a
/// malformed URL rather than a relative path; nil for anything else.
public func urlScheme(of location: String) -> Substring? {
    guard let colon = location.firstIndex(of: ":") else { return nil }
    let scheme = location[..<colon]
    guard let first = scheme.first, first.isASCII, first.isLetter,
          scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else { return nil }
    return scheme
}

/// A bundle in a local file.
public final class FileBundleSource: BundleSource {
    public let path: String
    public var validator: String? { nil }
    public var description: String { path }

    public init(path: String) {
        self.path = path
    }

    public func readPreamble() throws -> BundlePreamble {
        try BundleFile.readPreamble(path: path)
    }

    public func imageSource(for preamble: BundlePreamble) throws -> ChunkSource {
        try BundleFile.checkLength(path: path, preamble: preamble)
        // The bundle is usually in the page cache (just downloaded or copied), so read it
        // through the cache: one copy, straight into the pipeline's buffer.
        return try FileRangeSource(path: path, baseOffset: preamble.header.imageOffset, directIO: false)
    }
}
