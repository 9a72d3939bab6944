#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A system call on a file that failed, with `errno`.
struct SystemError: Error {
    var operation: String
    var path: String
    var code: Int32

    var reason: String { String(cString: strerror(code)) }
}

/// An open file descriptor, closed on release. Reads and writes are positional (`pread`,
/// `pwrite`) and loop over partial transfers and `EINTR`.
///
/// Verification reaches the system directly rather than through swift-system, so that the
/// module depends on nothing but libcrypto.
final class SystemFile {
    let path: String
    private let descriptor: Int32

    convenience init(path: String, flags: Int32, mode: mode_t = 0) throws(SystemError) {
        let descriptor = open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw SystemError(operation: "opening", path: path, code: errno) }
        self.init(descriptor: descriptor, path: path)
    }

    convenience init(reading path: String) throws(SystemError) {
        try self.init(path: path, flags: O_RDONLY)
    }

    /// Takes ownership of `descriptor`.
    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// Size in bytes; `lseek` answers for block devices too, where `fstat` says 0.
    func size() throws(SystemError) -> UInt64 {
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw SystemError(operation: "finding the size of", path: path, code: errno) }
        return UInt64(end)
    }

    /// What changes when the file is written to, to notice a change between two passes over it.
    struct Stamp: Equatable {
        var size: UInt64
        var modified: [Int]
    }

    func stamp() throws(SystemError) -> Stamp {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SystemError(operation: "examining", path: path, code: errno) }
        return Stamp(size: try size(), modified: [status.st_mtim.tv_sec, status.st_mtim.tv_nsec])
    }

    /// Fills `buffer` from `offset` unless the file ends first; returns how many bytes were read.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError(operation: "reading", path: path, code: errno)
            }
            done += count
        }
        return done
    }

    /// Up to `count` bytes from `offset`; fewer when the file ends first.
    func read(count: Int, at offset: UInt64) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        // withUnsafeMutableBytes rethrows untyped errors, so the typed one travels in a Result.
        let read = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try self.read(into: buffer, at: offset) }
        }
        return Array(bytes.prefix(try read.get()))
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(SystemError) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let count = pwrite(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError(operation: "writing", path: path, code: errno)
            }
            done += count
        }
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws(SystemError) {
        try bytes.withUnsafeBytes { buffer in Result { () throws(SystemError) in try write(buffer, at: offset) } }.get()
    }

    func synchronize() throws(SystemError) {
        guard fsync(descriptor) == 0 else { throw SystemError(operation: "flushing", path: path, code: errno) }
    }

    func changeMode(_ mode: mode_t) throws(SystemError) {
        guard fchmod(descriptor, mode) == 0 else { throw SystemError(operation: "setting the mode of", path: path, code: errno) }
    }

    /// The whole file, refusing one longer than `limit`: key files and revocation lists are
    /// small, and a large one is a mistake (or /dev/zero) that must not exhaust memory.
    static func contents(of path: String, limit: Int) throws(SystemError) -> [UInt8] {
        let file = try SystemFile(reading: path)
        let bytes = try file.read(count: limit + 1, at: 0)
        guard bytes.count <= limit else { throw SystemError(operation: "reading", path: path, code: EFBIG) }
        return bytes
    }

    /// The names in a directory, sorted, without `.` and `..`; nil when it does not exist.
    static func entries(of directory: String) throws(SystemError) -> [String]? {
        guard let stream = opendir(directory) else {
            if errno == ENOENT { return nil }
            throw SystemError(operation: "listing", path: directory, code: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
