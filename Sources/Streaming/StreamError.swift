import Slots
import SystemPackage

/// What can go wrong while moving image bytes. Each description says what happened and what to do.
public enum StreamError: Error, Equatable, CustomStringConvertible {
    case cancelled
    case cannotOpen(path: String, errno: Errno)
    case readFailed(path: String, offset: UInt64, detail: String)
    case writeFailed(path: String, offset: UInt64, detail: String)
    case syncFailed(path: String, detail: String)
    case sourceEndedEarly(source: String, received: UInt64, expected: UInt64)
    case sourceTooLong(source: String, expected: UInt64)
    case outOfSlot(offset: UInt64, count: Int, slotSize: UInt64)
    case slotOutsideDisk(path: String, extent: SlotExtent, diskSize: UInt64)
    case http(url: String, detail: String)
    case httpStatus(url: String, status: Int, detail: String)
    case unsupportedSource(String)
    /// A chunk of a format 3 image did not hash to its digest in the signed chunk table.
    case chunkMismatch(chunk: Int, range: Range<UInt64>)
    /// The table's chunks do not fit the pipeline's buffers (a buffer must hold whole chunks).
    case chunkLayoutUnsupported(chunkSize: UInt64, bufferSize: Int)

    public var description: String {
        switch self {
        case .cancelled:
            return "the transfer was cancelled"
        case let .cannotOpen(path, errno):
            return "cannot open \(path): \(errno)"
        case let .readFailed(path, offset, detail):
            return "reading \(path) at offset \(offset) failed: \(detail)"
        case let .writeFailed(path, offset, detail):
            return "writing \(path) at offset \(offset) failed: \(detail); check the device (dmesg) and retry"
        case let .syncFailed(path, detail):
            return "flushing \(path) to stable storage failed: \(detail); check the device (dmesg) and retry"
        case let .sourceEndedEarly(source, received, expected):
            return "\(source) ended after \(received) of \(expected) image bytes: the bundle is truncated; download it again"
        case let .sourceTooLong(source, expected):
            return "\(source) sent more than the \(expected) image bytes its manifest declares"
        case let .outOfSlot(offset, count, slotSize):
            return "refusing to write \(count) bytes at offset \(offset) of a \(slotSize)-byte slot"
        case let .slotOutsideDisk(path, extent, diskSize):
            return "refusing to write the slot at \(extent) of \(path): it holds only \(diskSize) bytes now; "
                + "the disk changed since it was probed; nothing was written"
        case let .http(url, detail):
            return "downloading \(url) failed: \(detail)"
        case let .httpStatus(url, status, detail):
            return "the server answered \(url) with HTTP \(status): \(detail)"
        case let .chunkMismatch(chunk, range):
            return "chunk \(chunk) of the image (bytes \(range.lowerBound)..<\(range.upperBound)) does not hash to its digest "
                + "in the signed chunk table: the bundle is corrupt or was tampered with; that chunk was not written"
        case let .chunkLayoutUnsupported(chunkSize, bufferSize):
            return "the bundle's \(chunkSize)-byte chunks do not fit this installer's \(bufferSize)-byte buffers; "
                + "rebuild the bundle with a chunk size that divides \(bufferSize)"
        case let .unsupportedSource(source):
            return "cannot read '\(source)': give a file path, a file:// URL or an http(s):// URL"
        }
    }
}
