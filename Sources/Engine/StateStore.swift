import FoundationEssentials
import Platform

/// `state.json` in the state directory, replaced atomically (temp file, fsync, rename, fsync of
/// the directory), so that after a crash it holds the old state or the new, never a mixture.
public struct StateStore: Sendable {
    public let directory: String
    public var path: String { directory + "/state.json" }

    public init(directory: String) {
        self.directory = directory
    }

    /// The saved state; a missing file is a fresh start. An unreadable one is an error, because
    /// silently starting fresh would forget an interrupted install.
    public func load() throws(StateError) -> DaemonState {
        guard FileManager.default.fileExists(atPath: path) else { return DaemonState() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied")
        }
        do {
            return try JSONDecoder().decode(DaemonState.self, from: data)
        } catch {
            throw .unreadable(path: path, reason: "not valid state JSON (\(error))")
        }
    }

    public func save(_ state: DaemonState) throws(StateError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicFile.write(Array(try encoder.encode(state)), to: path, permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
    }
}

public enum StateError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            "cannot read the saved state \(path): \(reason); move it aside to start afresh (the record of an interrupted install is then lost)"
        case let .unwritable(path, reason):
            "cannot save the state to \(path): \(reason); check that the state directory is writable and the disk is not full"
        }
    }
}
