import Delta
import Platform
import SystemPackage

/// Where slot keys records live: `<state>/slot-keys/<partition GUID>.keys`, one per slot an
/// install wrote. An install records its target's keys and, before it writes the first byte,
/// removes the target's old record; a delta reads the booted slot's.
public struct SlotKeysStore: Sendable {
    public let directory: String
    static let suffix = ".keys"

    public init(stateDirectory: String) {
        directory = stateDirectory + "/slot-keys"
    }

    public func path(forPartition guid: String) -> String {
        directory + "/" + guid.lowercased() + SlotKeysStore.suffix
    }

    public func record(forPartition guid: String) throws(SlotKeysRefusal) -> SlotKeysRecord {
        try SlotKeysRecord.open(path(forPartition: guid))
    }

    /// A recorder for the keys of an image about to be written to the partition.
    public func recorder(forPartition guid: String, imageSize: UInt64, imageSHA256: [UInt8]) throws(Errno) -> SlotKeysRecorder {
        try AtomicFile.createDirectories(directory)
        return try SlotKeysRecorder(path: path(forPartition: guid), imageSize: imageSize, imageSHA256: imageSHA256)
    }

    /// Removes the partition's record, durably, and what an interrupted recording left of one
    /// (`ReplacementFile`'s temporary names), so that no record outlives its slot's contents.
    public func remove(forPartition guid: String, keeping current: SlotKeysRecorder?) throws(Errno) {
        let record = path(forPartition: guid)
        do {
            try AtomicFile.remove(record)
        } catch .notDirectory {
            // Something else has the directory's name: no record can be there.
            return
        }
        let leftoverPrefix = FilePath(record).lastComponent.map { $0.string + ".tmp-" } ?? ""
        guard let names = try? FilePath(directory).directoryEntries() else { return }
        for name in names where name.hasPrefix(leftoverPrefix) && current?.temporaryName != name {
            try AtomicFile.remove(directory + "/" + name)
        }
    }
}

/// What became of an install's record of its target's block keys.
public enum SlotKeysRecording: Equatable, Sendable, CustomStringConvertible {
    case recorded(path: String)
    /// Formats 1 and 2 carry no keys, and an install without a state directory keeps no record.
    case notKept
    /// The install succeeded; a later delta from this slot hashes it instead.
    case failed(String)

    public var description: String {
        switch self {
        case let .recorded(path): "recorded in \(path)"
        case .notKept: "not kept"
        case let .failed(detail): "not recorded (\(detail)); a delta from this slot will hash it"
        }
    }
}
