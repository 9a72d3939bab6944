#if canImport(Glibc)
import Glibc
#endif
import Platform
import SystemPackage

/// Writes image bytes into a slot: a byte range of a disk, loop device or image file.
///
/// Whole chunks go through `O_DIRECT`, which skips the page cache (and a copy), so they reach
/// the device from the pipeline's own aligned buffer. Where `O_DIRECT` is refused (tmpfs, some
/// file systems) or for the image's unaligned tail, writes are buffered; `synchronize` makes
/// both durable with `fdatasync`.
public final class SlotWriter: @unchecked Sendable {
    public let path: String
    public let slotOffset: UInt64
    public let slotSize: UInt64
    public private(set) var usesDirectIO: Bool
    private let direct: FileDescriptor?
    private let buffered: FileDescriptor
    private static let directAlignment = 4096

    public init(path: String, slotOffset: UInt64, slotSize: UInt64, directIO: Bool = true) throws {
        self.path = path
        self.slotOffset = slotOffset
        self.slotSize = slotSize
        do {
            buffered = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.closeOnExec])
        } catch {
            throw StreamError.cannotOpen(path: path, errno: error as? Errno ?? .ioError)
        }
        direct = directIO ? SlotWriter.openDirect(path, mode: .writeOnly) : nil
        usesDirectIO = direct != nil
    }

    deinit {
        try? direct?.close()
        try? buffered.close()
    }

    /// Opens with `O_DIRECT`, or returns nil where the file system refuses it.
    static func openDirect(_ path: String, mode: FileDescriptor.AccessMode) -> FileDescriptor? {
        try? FileDescriptor.open(FilePath(path), mode, options: [.closeOnExec, .direct])
    }

    /// Writes `bytes` at `offset` within the slot.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard offset + UInt64(bytes.count) <= slotSize else {
            throw StreamError.outOfSlot(offset: offset, count: bytes.count, slotSize: slotSize)
        }
        var done = 0
        if usesDirectIO, let direct {
            let aligned = bytes.count / SlotWriter.directAlignment * SlotWriter.directAlignment
            do {
                try direct.writeExactly(toAbsoluteOffset: Int64(slotOffset + offset),
                                        UnsafeRawBufferPointer(rebasing: bytes[0..<aligned]))
                done = aligned
            } catch Errno.invalidArgument {
                // The device wants a stricter alignment than ours: stay correct, lose the speed.
                usesDirectIO = false
            }
        }
        guard done < bytes.count else { return }
        do {
            try buffered.writeExactly(toAbsoluteOffset: Int64(slotOffset + offset) + Int64(done),
                                      UnsafeRawBufferPointer(rebasing: bytes[done...]))
        } catch {
            throw StreamError.writeFailed(path: path, offset: slotOffset + offset + UInt64(done), detail: "\(error)")
        }
    }

    /// Makes everything written so far durable, including the device's write cache.
    public func synchronize() throws {
        do {
            try buffered.synchronizeData()
            try direct?.synchronizeData()
        } catch {
            throw StreamError.syncFailed(path: path, detail: "\(error)")
        }
    }
}
