import FoundationEssentials
import Platform
import SystemPackage

/// How far an install got, persisted every few tens of MiB so that a dropped connection, a
/// killed process or a power cut resumes instead of starting over. The bytes before `offset`
/// were synced to the slot before this was written.
public struct Checkpoint: Codable, Equatable, Sendable {
    public var imageSHA256: String
    public var imageSize: UInt64
    public var version: String
    /// The target slot's partition UUID: a checkpoint never applies to another slot.
    public var slotUUID: String
    public var offset: UInt64
    public var source: String
    /// The server's ETag for the bundle, when it gave one.
    public var validator: String?

    public init(imageSHA256: String, imageSize: UInt64, version: String, slotUUID: String, offset: UInt64,
                source: String, validator: String?) {
        self.imageSHA256 = imageSHA256
        self.imageSize = imageSize
        self.version = version
        self.slotUUID = slotUUID
        self.offset = offset
        self.source = source
        self.validator = validator
    }

    /// Whether this checkpoint belongs to the same image headed for the same slot.
    func matches(_ other: Checkpoint) -> Bool {
        imageSHA256 == other.imageSHA256 && imageSize == other.imageSize && slotUUID == other.slotUUID
    }
}

/// The checkpoint file in the state directory, replaced atomically.
public struct CheckpointStore: Sendable {
    public let path: String

    public init(stateDirectory: String) {
        path = stateDirectory + "/checkpoint.json"
    }

    public func load() -> Checkpoint? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Checkpoint.self, from: data)
    }

    public func save(_ checkpoint: Checkpoint) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileManager.default.createDirectory(atPath: FilePath(path).removingLastComponent().string,
                                                withIntermediateDirectories: true)
        try AtomicFile.write(Array(try encoder.encode(checkpoint)), to: path)
    }

    public func remove() throws {
        try AtomicFile.remove(path)
    }
}
