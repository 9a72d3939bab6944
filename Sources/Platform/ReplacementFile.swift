#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// A file written beside its destination and moved into place only once it is complete and on
/// stable storage, so that a crash leaves the old file or the new one, never a mixture. The
/// content is streamed in through `descriptor`, in as many writes as the caller likes.
/// Dropped without a successful `commit`, it removes itself.
public final class ReplacementFile {
    public let destination: FilePath
    /// Open for writing; the replacement owns it and closes it on release.
    public let descriptor: FileDescriptor
    /// Where the content goes until `commit`: `<destination>.tmp-XXXXXX`.
    public let temporary: String
    private var committed = false

    /// Creates the temporary file with exactly `permissions` (the umask does not apply). It is
    /// in the destination's directory because `rename` is atomic only within one file system,
    /// and mkstemp names it uniquely and creates it with mode 0600, so that nobody else can
    /// open it in between, even when `permissions` are private. Nil `permissions` keep what the
    /// file system gives: FAT (the ESP) has no modes, and refuses fchmod to most of them.
    public init(destination: FilePath, permissions: FilePermissions?) throws(Errno) {
        var template = Array((destination.string + ".tmp-XXXXXX").utf8CString)
        let raw = try Errno.retryingOnInterrupt { mkstemp(&template) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            if let permissions {
                try Errno.retryingOnInterrupt { fchmod(raw, permissions.rawValue) }
            }
        } catch {
            close(raw)
            unlink(temporary)
            throw error
        }
        self.destination = destination
        self.descriptor = FileDescriptor(rawValue: raw)
        self.temporary = temporary
    }

    deinit {
        // After commit the data is already on stable storage, so closing cannot lose any.
        try? descriptor.close()
        if !committed { unlink(temporary) }
    }

    /// Flushes the file, gives it the destination's name and flushes it and the directory again,
    /// so that the new name survives a crash too (`synchronizeRenamed(to:)` says why both).
    /// Without `replacing`, an existing destination is left alone and the error is
    /// `Errno.fileExists`; that needs link(2), which FAT lacks.
    public func commit(replacing: Bool = true) throws(Errno) {
        try descriptor.synchronize()
        if replacing {
            try Errno.retryingOnInterrupt { rename(temporary, destination.string) }
        } else {
            // link(2), unlike rename(2), refuses to replace an existing name.
            try Errno.retryingOnInterrupt { link(temporary, destination.string) }
            // The file is safe under its new name; a leftover second name is only untidy.
            unlink(temporary)
        }
        committed = true
        try FileDescriptor.synchronizeRenamed(to: destination)
    }
}
