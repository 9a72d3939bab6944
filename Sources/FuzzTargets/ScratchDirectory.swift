#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// A directory of this process's own in memory (/dev/shm), for the targets whose entry point
/// reads a file: the input is written there and read back through the real code path.
enum ScratchDirectory {
    /// Created on first use, removed at exit.
    static let path: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let path = "\(base)/tandem-fuzz-\(getpid())"
        mkdir(path, 0o700)
        atexit { ScratchDirectory.remove(ScratchDirectory.path) }
        return path
    }()

    /// Writes `bytes` to `name` (which may contain directories) under the scratch directory and
    /// returns the file's path.
    static func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = FilePath(path).appending(name)
        var parent = FilePath(path)
        for component in file.removingLastComponent().components.dropFirst(FilePath(path).components.count) {
            parent.append(component)
            mkdir(parent.string, 0o700)
        }
        let descriptor = try FileDescriptor.open(file, .writeOnly, options: [.create, .truncate, .closeOnExec],
                                                 permissions: .ownerReadWrite)
        try descriptor.closeAfter { _ = try descriptor.writeAll(bytes) }
        return file.string
    }

    /// `rm -r`, for the directory at exit: only files and directories this process made.
    private static func remove(_ path: String) {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != ".", name != ".." { remove(path + "/" + name) }
            }
            closedir(directory)
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
