#if canImport(Glibc)
import Glibc
#endif
import Platform
import Slots
import Synchronization
import SystemPackage

/// Writes image bytes into a slot: a byte range of a disk, loop device or image file.
///
/// It cannot write outside that range, whatever its caller asks: the range is a `SlotExtent`,
/// which only a slot that passed the geometry rules has, it is checked against the size of the
/// file actually opened, and every write is bounds-checked without overflow.
///
/// Whole chunks go through `O_DIRECT`, which skips the page cache (and a copy), so they reach
/// the device from the pipeline's own aligned buffer. Where `O_DIRECT` is refused (tmpfs, some
/// file systems) or for the image's unaligned tail, writes are buffered; `synchronize` makes
/// both durable with `fdatasync`.
public final class SlotWriter: Sendable {
    public let path: String
    public let extent: SlotExtent
    /// Whether whole chunks still go through `O_DIRECT`: cleared by the writer's thread if the
    /// device refuses our alignment, read by the installer's once the stream has ended.
    public var usesDirectIO: Bool { directIOWorks.load(ordering: .relaxed) }
    private let directIOWorks: Atomic<Bool>
    private let direct: FileDescriptor?
    private let buffered: FileDescriptor
    private static let directAlignment = 4096

    /// Opens the disk holding `slot` for writing the slot's bytes, and nothing else. The disk
    /// must still hold all of them: one that shrank since it was probed is refused.
    public init(slot: Slot, on disk: Disk, directIO: Bool = true) throws {
        path = disk.path
        extent = slot.extent
        do {
            buffered = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.closeOnExec])
        } catch {
            throw StreamError.cannotOpen(path: path, errno: error as? Errno ?? .ioError)
        }
        let size: UInt64
        do {
            size = try buffered.sizeInBytes()
        } catch {
            try? buffered.close()
            throw StreamError.writeFailed(path: path, offset: extent.offset, detail: "cannot find its size: \(error)")
        }
        guard extent.end <= size else {
            try? buffered.close()
            throw StreamError.slotOutsideDisk(path: path, extent: extent, diskSize: size)
        }
        direct = directIO ? SlotWriter.openDirect(path, mode: .writeOnly) : nil
        directIOWorks = Atomic(direct != nil)
    }

    deinit {
        try? direct?.close()
        try? buffered.close()
    }

    /// Opens with `O_DIRECT`, or returns nil where the file system refuses it.
    static func openDirect(_ path: String, mode: FileDescriptor.AccessMode) -> FileDescriptor? {
        try? FileDescriptor.open(FilePath(path), mode, options: [.closeOnExec, .direct])
    }

    /// Writes `bytes` at `offset` within the slot. Refuses, writing nothing, anything that would
    /// end past the slot, including an `offset + count` that overflows.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(bytes.count))
        guard !overflow, end <= extent.length else {
            throw StreamError.outOfSlot(offset: offset, count: bytes.count, slotSize: extent.length)
        }
        // Inside the extent, which lies inside the disk and below Int64.max: no overflow from here.
        let start = extent.offset + offset
        var done = 0
        if usesDirectIO, let direct {
            let aligned = bytes.count / SlotWriter.directAlignment * SlotWriter.directAlignment
            do {
                try direct.writeExactly(toAbsoluteOffset: Int64(start),
                                        UnsafeRawBufferPointer(rebasing: bytes[0..<aligned]))
                done = aligned
            } catch Errno.invalidArgument {
                // The device wants a stricter alignment than ours: stay correct, lose the speed.
                directIOWorks.store(false, ordering: .relaxed)
            }
        }
        guard done < bytes.count else { return }
        do {
            try buffered.writeExactly(toAbsoluteOffset: Int64(start) + Int64(done),
                                      UnsafeRawBufferPointer(rebasing: bytes[done...]))
        } catch {
            throw StreamError.writeFailed(path: path, offset: start + UInt64(done), detail: "\(error)")
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
