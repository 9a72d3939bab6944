#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Platform
import Slots
import SystemPackage

/// Where a grubenv block is kept, with the two ways Tandem changes it. Tests pass a
/// fault-injecting one that loses power between steps.
public protocol GrubEnvironmentStorage: AnyObject {
    /// A readable description of the place, for messages.
    var location: String { get }
    /// The whole block; nil when there is none. At most `GrubEnvironment.maximumFileSize`
    /// bytes, else `Errno.fileTooLarge`.
    func read() throws(Errno) -> [UInt8]?
    /// Writes `bytes` over the existing block at `offset` and flushes them to stable storage.
    /// The file keeps its size and its place on the disk, which GRUB's `save_env` needs.
    func overwrite(_ bytes: ArraySlice<UInt8>, at offset: Int) throws(Errno)
    /// Replaces the whole file (write-temp, fsync, rename, fsync the directory), for a block
    /// that is missing or of the wrong size.
    func replace(with bytes: [UInt8]) throws(Errno)
}

/// A grubenv file on a mounted file system (the ESP, or `/boot`).
public final class GrubEnvironmentFile: GrubEnvironmentStorage {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var location: String { path }

    public func read() throws(Errno) -> [UInt8]? {
        do throws(Errno) {
            let descriptor = try open(.readOnly)
            // Nothing was written through it, so closing it cannot lose anything.
            defer { try? descriptor.close() }
            let bytes = try descriptor.readBytes(upTo: GrubEnvironment.maximumFileSize + 1, fromAbsoluteOffset: 0)
            guard bytes.count <= GrubEnvironment.maximumFileSize else { throw .fileTooLarge }
            return bytes
        } catch .noSuchFileOrDirectory {
            return nil
        }
    }

    public func overwrite(_ bytes: ArraySlice<UInt8>, at offset: Int) throws(Errno) {
        let descriptor = try open(.writeOnly)
        defer { try? descriptor.close() }
        // The caller read the block's size; a file changed since then is not written past.
        let size = try descriptor.sizeInBytes()
        let (end, overflow) = offset.addingReportingOverflow(bytes.count)
        guard offset >= 0, !overflow, UInt64(end) <= size else { throw .invalidArgument }
        try descriptor.writeExactly(toAbsoluteOffset: Int64(offset), Array(bytes))
        try descriptor.synchronizeData()
    }

    public func replace(with bytes: [UInt8]) throws(Errno) {
        // The ESP is FAT, which has no modes to set (fchmod may fail there).
        try AtomicFile.write(bytes, to: path, permissions: nil)
    }

    /// A regular file only, never through a symbolic link: GRUB reads the file's own blocks.
    private func open(_ mode: FileDescriptor.AccessMode) throws(Errno) -> FileDescriptor {
        let descriptor = try Errno.typed {
            try FileDescriptor.open(FilePath(path), mode, options: [.closeOnExec, .noFollow])
        }
        var status = stat()
        guard fstat(descriptor.rawValue, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            try? descriptor.close()
            throw .invalidArgument
        }
        return descriptor
    }
}
