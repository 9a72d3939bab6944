#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Platform
import Synchronization
import UpdateModel
import SystemPackage

/// What a reboot coordinator is doing, as locksmith's `pkg/coordinatorconf` names it.
public enum CoordinatorState: String, Sendable, CaseIterable {
    case starting
    /// Running, but configured not to reboot (strategy `off`).
    case disabled
    case running
    /// A reboot will happen once a condition is met: the window, the lock.
    case rebootPlanned = "reboot-planned"
    case rebooting
}

/// `/run/update-engine/coordinator.conf`: the file through which the host's reboot coordinator
/// says who it is (`NAME=`), how it decides (`STRATEGY=`) and what it is doing (`STATE=`), as
/// locksmithd writes it. Whoever coordinates holds an exclusive `flock` on it for as long as it
/// does, so a second coordinator (a locksmithd left enabled) fails to start instead of
/// rebooting the host behind Tandem's back.
///
/// Each update replaces the file atomically, as locksmith's `UpdateableFileLock` does: the new
/// file is locked before it is renamed over the old one, so the name is never unlocked.
public final class CoordinatorConf: Sendable {
    public static let defaultPath = "/run/update-engine/coordinator.conf"

    public let path: String
    public let name: String
    public let strategy: RebootStrategy
    private struct Held {
        /// Holds the lock on the file now at `path`; nil once closed.
        var descriptor: FileDescriptor?
        var state = CoordinatorState.starting
    }

    private let held: Mutex<Held>

    /// Takes the file (creating it and its directory) and writes `STATE=starting`.
    public init(path: String = CoordinatorConf.defaultPath, name: String = "tandemd", strategy: RebootStrategy) throws(CoordinatorConfError) {
        self.path = path
        self.name = name
        self.strategy = strategy
        held = Mutex(Held(descriptor: try CoordinatorConf.lock(path)))
        try update(.starting)
    }

    deinit {
        held.withLock { try? $0.descriptor?.close() }
    }

    public var state: CoordinatorState {
        held.withLock { $0.state }
    }

    /// Replaces the file with the new state, keeping the lock.
    public func update(_ state: CoordinatorState) throws(CoordinatorConfError) {
        try held.withLock { (held) throws(CoordinatorConfError) in
            guard let locked = held.descriptor else { throw .closed(path: path) }
            let next = try replace(keeping: locked, with: "NAME=\(name)\nSTRATEGY=\(strategy.rawValue)\nSTATE=\(state.rawValue)\n")
            try? locked.close()
            held.descriptor = next
            held.state = state
        }
    }

    /// Writes a locked replacement of the file and renames it into place; returns the
    /// descriptor that holds the new file's lock.
    private func replace(keeping held: FileDescriptor, with text: String) throws(CoordinatorConfError) -> FileDescriptor {
        try attempt("replace") { () throws(Errno) -> FileDescriptor in
            let permissions = FilePermissions(rawValue: try Errno.typed { try held.stat() }.permissions.rawValue)
            let replacement = try ReplacementFile(destination: FilePath(path), permissions: permissions)
            try replacement.descriptor.writeExactly(toAbsoluteOffset: 0, Array(text.utf8))
            // The replacement closes its own descriptor; a duplicate keeps the lock, which
            // belongs to the open file, not to one descriptor.
            try Errno.retryingOnInterrupt { flock(replacement.descriptor.rawValue, LOCK_EX | LOCK_NB) }
            let kept = FileDescriptor(rawValue: try Errno.retryingOnInterrupt { fcntl(replacement.descriptor.rawValue, F_DUPFD_CLOEXEC, 0) })
            do throws(Errno) {
                try replacement.commit()
            } catch {
                try? kept.close()
                throw error
            }
            return kept
        }
    }

    /// Gives the file up (leaving it in place, as locksmith does), for another coordinator.
    public func close() {
        held.withLock { held in
            try? held.descriptor?.close()
            held.descriptor = nil
        }
    }

    /// Opens and locks the file now at `path`. If it was replaced between the open and the
    /// lock (its holder updated it), the lock is on an old file: open the new one and try again.
    private static func lock(_ path: String) throws(CoordinatorConfError) -> FileDescriptor {
        let filePath = FilePath(path)
        try makeDirectories(filePath.removingLastComponent())
        while true {
            let descriptor = try attempt(path, "open") { () throws(Errno) in
                try Errno.typed {
                    try FileDescriptor.open(filePath, .readOnly, options: [.create, .closeOnExec],
                                            permissions: [.ownerReadWrite, .groupRead, .otherRead])
                }
            }
            do {
                try Errno.retryingOnInterrupt { flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }
            } catch {
                try? descriptor.close()
                if error == .wouldBlock { throw .heldByAnother(path: path, name: holderName(path)) }
                throw .system(path: path, operation: "lock", error)
            }
            var opened = stat(), current = stat()
            if fstat(descriptor.rawValue, &opened) == 0, stat(path, &current) == 0,
               opened.st_dev == current.st_dev, opened.st_ino == current.st_ino {
                return descriptor
            }
            try? descriptor.close()
        }
    }

    /// `mkdir -p`, mode 0755 (locksmith's `MkdirAll`).
    private static func makeDirectories(_ directory: FilePath) throws(CoordinatorConfError) {
        do {
            try AtomicFile.createDirectories(directory.string)
        } catch {
            throw .system(path: directory.string, operation: "create the directory", error)
        }
    }

    /// The NAME= of whoever holds the file, for the message.
    private static func holderName(_ path: String) -> String? {
        guard let bytes = try? FileDescriptor.contents(of: FilePath(path), limit: 4096) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) where line.hasPrefix("NAME=") {
            return String(line.dropFirst(5)).trimmingWhitespace()
        }
        return nil
    }

    private func attempt<T>(_ operation: String, _ body: () throws(Errno) -> T) throws(CoordinatorConfError) -> T {
        try CoordinatorConf.attempt(path, operation, body)
    }

    private static func attempt<T>(_ path: String, _ operation: String, _ body: () throws(Errno) -> T) throws(CoordinatorConfError) -> T {
        do {
            return try body()
        } catch {
            throw .system(path: path, operation: operation, error)
        }
    }
}
