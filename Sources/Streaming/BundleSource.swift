import FoundationEssentials
import HTTP
import Platform
import SystemPackage
import Verification

/// Where a bundle comes from. Reading the preamble (header, manifest, signatures) comes first,
/// so that everything can be checked before the first image byte reaches the disk.
public protocol BundleSource: AnyObject, CustomStringConvertible {
    func readPreamble() throws -> BundlePreamble
    /// The image bytes, addressed from the start of the image.
    func imageSource(for preamble: BundlePreamble) throws -> ChunkSource
    /// Hands `range` of the bundle file to `sink`, in order and each byte once: the chunk table
    /// of a format 3 bundle, read after the signature is verified.
    func readRegion(_ range: Range<UInt64>, sink: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Fills `destination` with the bytes of `ranges` of the bundle file (ascending, disjoint),
    /// one after another: the blocks a delta install does not find in the booted slot.
    func fetchRanges(_ ranges: [Range<UInt64>], into destination: UnsafeMutableRawBufferPointer) throws
    /// What identifies this copy of the bundle to its server (an ETag), for resuming.
    var validator: String? { get }
    /// The file published beside the bundle under its name plus `suffix` (its block file).
    func companion(_ suffix: String) -> BundleSource
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

    public func companion(_ suffix: String) -> BundleSource {
        FileBundleSource(path: path + suffix)
    }

    public func imageSource(for preamble: BundlePreamble) throws -> ChunkSource {
        try BundleFile.checkLength(path: path, preamble: preamble)
        // The bundle is usually in the page cache (just downloaded or copied), so read it
        // through the cache: one copy, straight into the pipeline's buffer.
        return try FileRangeSource(path: path, baseOffset: preamble.header.imageOffset, directIO: false)
    }

    public func readRegion(_ range: Range<UInt64>, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file = try openFile()
        defer { try? file.close() }
        // One buffer for the whole region: a table is read once per install.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileBundleSource.regionBufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var position = range.lowerBound
        while position < range.upperBound {
            let wanted = Int(min(UInt64(buffer.count), range.upperBound - position))
            let space = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted])
            try read(file, at: position, into: space, regionStart: range.lowerBound,
                     regionLength: range.upperBound - range.lowerBound)
            try sink(UnsafeRawBufferPointer(space))
            position += UInt64(wanted)
        }
    }

    public func fetchRanges(_ ranges: [Range<UInt64>], into destination: UnsafeMutableRawBufferPointer) throws {
        let file = try openFile()
        defer { try? file.close() }
        var at = 0
        for range in ranges {
            let count = Int(range.upperBound - range.lowerBound)
            guard count <= destination.count - at else {
                throw StreamError.sourceTooLong(source: path, expected: UInt64(destination.count))
            }
            try read(file, at: range.lowerBound, into: UnsafeMutableRawBufferPointer(rebasing: destination[at..<(at + count)]),
                     regionStart: range.lowerBound, regionLength: UInt64(count))
            at += count
        }
    }

    private func openFile() throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw StreamError.cannotOpen(path: path, errno: error as? Errno ?? .ioError)
        }
    }

    /// Reads `space` from `position`, which lies in a region of the file being read, for the
    /// message a short file gets.
    private func read(_ file: FileDescriptor, at position: UInt64, into space: UnsafeMutableRawBufferPointer,
                      regionStart: UInt64, regionLength: UInt64) throws {
        do {
            try file.readExactly(fromAbsoluteOffset: Int64(position), into: space)
        } catch let short as ShortReadError {
            throw StreamError.sourceEndedEarly(source: path, received: position - regionStart + UInt64(short.received),
                                               expected: regionLength)
        } catch {
            throw StreamError.readFailed(path: path, offset: position, detail: "\(error)")
        }
    }

    static let regionBufferSize = 256 << 10
}
