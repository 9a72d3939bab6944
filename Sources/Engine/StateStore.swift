import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Platform
import SystemPackage

/// `state.json` in the state directory, replaced atomically (temp file, fsync, rename, fsync of
/// the directory), so that after a crash it holds the old state or the new, never a mixture.
public struct StateStore: Sendable {
    public let directory: String
    public var path: String { directory + "/state.json" }
    /// Far more than any real state; a larger file is not one tandemd wrote.
    static let sizeLimit = 16 << 20

    public init(directory: String) {
        self.directory = directory
    }

    /// What `load` found.
    public struct Loaded: Sendable, Equatable {
        public var state: DaemonState
        /// The file could not be read as state at all and was moved aside.
        public var setAside: SetAside?
    }

    /// Where an unreadable state file was moved, and why it could not be read.
    public struct SetAside: Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// The saved state; a missing file is a fresh start. A file that is not JSON state at all
    /// (truncated, corrupt, junk) is renamed to `state.json.broken-<unix time>` and tandemd
    /// starts afresh: otherwise tandemd, and with it the blessing of this boot, would stay
    /// down. Anything else that stops the read (permissions, a directory or fifo in its place,
    /// an I/O error) is an error, because silently starting fresh would forget an interrupted
    /// install while the file may still be good.
    public func load() throws(StateError) -> Loaded {
        try checkDirectory()
        let data: [UInt8]
        do {
            // O_NONBLOCK: a fifo in the file's place must not hang tandemd's start-up.
            let descriptor = try Errno.typed {
                try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking])
            }
            defer { try? descriptor.close() }
            var info = stat()
            guard fstat(descriptor.rawValue, &info) == 0 else { throw Errno(rawValue: errno) }
            let mode = info.st_mode & S_IFMT
            guard mode == S_IFREG else {
                throw StateError.unreadable(path: path, reason: "it is \(Self.describe(mode: mode)), not a file")
            }
            data = try descriptor.readBytes(upTo: Self.sizeLimit + 1, fromAbsoluteOffset: 0)
        } catch let error as StateError {
            throw error
        } catch Errno.noSuchFileOrDirectory {
            return Loaded(state: DaemonState())
        } catch let error as Errno {
            throw .unreadable(path: path, reason: Self.describe(error))
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        if data.count <= Self.sizeLimit, let state = try? JSONDecoder().decode(DaemonState.self, from: Data(data)) {
            return Loaded(state: state)
        }
        let reason = data.count > Self.sizeLimit ? "larger than \(Self.sizeLimit >> 20) MiB" : "not JSON state (truncated or corrupt)"
        let aside = path + ".broken-\(HostFacts.now())"
        guard rename(path, aside) == 0 else {
            throw .unreadable(path: path, reason: "\(reason), and it cannot be moved aside to \(aside): \(Self.describe(Errno(rawValue: errno)))")
        }
        return Loaded(state: DaemonState(), setAside: SetAside(path: aside, reason: reason))
    }

    public func save(_ state: DaemonState) throws(StateError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try checkDirectory()
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicFile.write(Array(try encoder.encode(state)), to: path, permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch let error as StateError {
            throw error
        } catch let error as Errno {
            throw .unwritable(path: path, reason: Self.describe(error))
        } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
    }

    /// The state directory, if it exists, must be a directory: a file in its place would
    /// otherwise surface as a raw Foundation error code.
    private func checkDirectory() throws(StateError) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            // Missing is fine (`save` creates it); a file as a parent is not.
            guard errno == ENOTDIR else { return }
            throw .badDirectory(path: directory, reason: "a component of the path is a file, not a directory")
        }
        let mode = info.st_mode & S_IFMT
        guard mode == S_IFDIR else {
            throw .badDirectory(path: directory, reason: "it is \(Self.describe(mode: mode)), not a directory")
        }
    }

    static func describe(mode: mode_t) -> String {
        switch mode {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a fifo"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "a regular file"
        }
    }

    static func describe(_ error: Errno) -> String {
        switch error {
        case .permissionDenied, .notPermitted: "permission denied"
        case .notDirectory: "a component of the path is not a directory"
        case .noSpace: "the file system is full"
        case .readOnlyFileSystem: "the file system is read-only"
        default: "\(error)"
        }
    }
}

public enum StateError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case badDirectory(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            "cannot read the saved state \(path): \(reason); move it aside to start afresh (the record of an interrupted install is then lost)"
        case let .unwritable(path, reason):
            "cannot save the state to \(path): \(reason); check that the state directory is writable and the disk is not full"
        case let .badDirectory(path, reason):
            "the state directory \(path) is unusable: \(reason); set StateDirectory= to a directory, or move the file away"
        }
    }
}
