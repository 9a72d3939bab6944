#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Platform
import Slots
import SystemPackage

/// One durable file step on the ESP, paths relative to its root; tests cut the power before it.
public enum ESPFileStep: Equatable, Sendable, CustomStringConvertible {
    case writeTemporary(String)
    /// The temporary file becomes the file.
    case commit(String)
    case rename(from: String, to: String)
    case remove(String)

    public var description: String {
        switch self {
        case let .writeTemporary(path): "write a temporary file for \(path)"
        case let .commit(path): "rename the temporary file to \(path)"
        case let .rename(from, to): "rename \(from) to \(to)"
        case let .remove(path): "remove \(path)"
        }
    }
}

/// The file steps a backend takes on the ESP (FAT): each one durable before the next starts,
/// each one atomic on its own, as systemd-bless-boot does them: a rename within the directory,
/// then an fsync of the directory; new contents written beside the file, synced, renamed over
/// it. FAT has no modes and no link(2), so files get the mount's mode and renames replace.
final class ESPFiles {
    typealias Step = ESPFileStep

    let root: String
    let backend: BootBackendKind
    /// Called before every step; a test throws from it to stop the write there.
    private let beforeStep: (Step) throws -> Void

    init(root: String, backend: BootBackendKind, beforeStep: @escaping (Step) throws -> Void) {
        self.root = root
        self.backend = backend
        self.beforeStep = beforeStep
    }

    /// Replaces `relative` (or creates it) with `text`: temporary file, fsync, rename, fsync dir.
    func replace(_ relative: String, with text: String) throws {
        let path = root + "/" + relative
        try beforeStep(.writeTemporary(relative))
        let replacement = try ioStep(path, "write") { () throws(Errno) in
            try ReplacementFile(destination: FilePath(path), permissions: nil)
        }
        try ioStep(path, "write") { () throws(Errno) in try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, Array(text.utf8)) }
        try beforeStep(.commit(relative))
        try ioStep(path, "replace") { () throws(Errno) in try replacement.commit() }
    }

    /// Renames within one directory, then syncs the file and the directory so the new name
    /// survives (on FAT the directory alone is not enough: `synchronizeRenamed(to:)`).
    func rename(_ from: String, to: String) throws {
        try beforeStep(.rename(from: from, to: to))
        let source = root + "/" + from
        let target = root + "/" + to
        try ioStep(source, "rename") { () throws(Errno) in
            _ = try Errno.retryingOnInterrupt { renameFile(source, target) }
            try FileDescriptor.synchronizeRenamed(to: FilePath(target))
        }
    }

    func remove(_ relative: String) throws {
        try beforeStep(.remove(relative))
        let path = root + "/" + relative
        try ioStep(path, "remove") { () throws(Errno) in try AtomicFile.remove(path) }
    }

    func createDirectory(_ relative: String) throws {
        let path = root + "/" + relative
        try ioStep(path, "create") { () throws(Errno) in try AtomicFile.createDirectories(path) }
    }

    private func ioStep<T>(_ path: String, _ operation: String, _ body: () throws(Errno) -> T) throws(SlotError) -> T {
        do {
            return try body()
        } catch {
            throw .bootBackend(.ioFailed(backend: backend, path: path, operation: operation, errno: error))
        }
    }
}

/// rename(2), out of reach of the method of the same name.
private func renameFile(_ source: String, _ target: String) -> CInt {
    rename(source, target)
}
