#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file written beside its destination and moved into place only once it is complete and on
/// stable storage, so that a crash leaves the old file or the new one, never a mixture.
/// Dropped without `commit`, it removes itself.
final class ReplacementFile {
    let destination: String
    let file: SystemFile
    private let temporaryPath: String
    private var committed = false

    /// The temporary file is in the destination's directory because `rename` is atomic only
    /// within one file system.
    init(destination: String, mode: mode_t) throws(SystemError) {
        var template = Array((destination + ".tmp-XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw SystemError(operation: "creating a file beside", path: destination, code: errno) }
        temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        file = SystemFile(descriptor: descriptor, path: temporaryPath)
        self.destination = destination
        try file.changeMode(mode)
    }

    deinit {
        if !committed { unlink(temporaryPath) }
    }

    /// Flushes the file, moves it to the destination and flushes the directory, so that the
    /// new name survives a crash too. Without `replacing`, an existing destination is an
    /// `EEXIST` error and is left alone.
    func commit(replacing: Bool) throws(SystemError) {
        try file.synchronize()
        if replacing {
            guard rename(temporaryPath, destination) == 0 else {
                throw SystemError(operation: "renaming \(temporaryPath) to", path: destination, code: errno)
            }
        } else {
            // link(2), unlike rename(2), refuses to replace an existing name.
            guard link(temporaryPath, destination) == 0 else {
                throw SystemError(operation: "creating", path: destination, code: errno)
            }
            unlink(temporaryPath)
        }
        committed = true
        try SystemFile(path: ReplacementFile.directory(of: destination), flags: O_RDONLY | O_DIRECTORY).synchronize()
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
