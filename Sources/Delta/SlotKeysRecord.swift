import Platform
import SystemPackage
import Verification

/// A slot keys record on disk (`SlotKeysHeader`), its header parsed and its length checked; the
/// keys are read when they are asked for.
public struct SlotKeysRecord: Sendable {
    public let path: String
    public let header: SlotKeysHeader

    /// Opens the record at `path`: `.absent` when there is none.
    public static func open(_ path: String) throws(SlotKeysRefusal) -> SlotKeysRecord {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch .noSuchFileOrDirectory {
            throw .absent
        } catch {
            throw .unreadable("opening \(path): \(error)")
        }
        defer { try? file.close() }
        let length: UInt64
        do {
            length = try file.sizeInBytes()
        } catch {
            throw .unreadable("finding the size of \(path): \(error)")
        }
        guard length >= UInt64(SlotKeysHeader.size) else { throw .notARecord }
        var bytes = [UInt8](repeating: 0, count: SlotKeysHeader.size)
        do {
            try bytes.withUnsafeMutableBytes { try file.readExactly(fromAbsoluteOffset: 0, into: $0) }
        } catch {
            throw .unreadable("reading \(path): \(error)")
        }
        return SlotKeysRecord(path: path, header: try SlotKeysHeader.parse(bytes[...], fileLength: length))
    }

    /// The first block of `sample` (block numbers and the keys their bytes hash to now) whose
    /// recorded key differs; blocks past the record's whole blocks are not compared. Nil: the
    /// sample agrees with the record.
    public func firstMismatch(in sample: [(block: UInt64, key: UInt64)]) throws(SlotKeysRefusal) -> UInt64? {
        let file: FileDescriptor
        do {
            file = try BlockKeys.open(path)
        } catch {
            throw .unreadable(error.description)
        }
        defer { try? file.close() }
        var recorded = [UInt8](repeating: 0, count: ChunkLayout.keyLength)
        for (block, key) in sample where block < header.wholeBlocks {
            do {
                try recorded.withUnsafeMutableBytes {
                    try file.readExactly(fromAbsoluteOffset: Int64(header.keysOffset + block * UInt64(ChunkLayout.keyLength)),
                                         into: $0)
                }
            } catch {
                throw .unreadable(BlockKeys.readFailure(error, path: path).description)
            }
            if recorded.withUnsafeBytes(BlockKeys.key) != key { return block }
        }
        return nil
    }

    /// Calls `body` with the recorded key of each of the first `blocks` blocks (at most the
    /// record's whole blocks), in order, and the block's length.
    public func forEachKey(blocks: UInt64, _ body: (UInt64, UInt64) -> Void) throws(BlockKeys.Failure) {
        try BlockKeys.forEach(storedIn: path, from: header.keysOffset, blocks: min(blocks, header.wholeBlocks),
                              imageSize: header.imageSize, body)
    }
}

/// Where a delta took the booted slot's block keys from.
public enum BootedSlotKeys: Equatable, Sendable, CustomStringConvertible {
    /// The record of the install that wrote the slot, which a sample of its blocks agreed with.
    case recorded
    /// Hashing every block of the slot, because the record could not be used.
    case hashed(SlotKeysRefusal)

    public var description: String {
        switch self {
        case .recorded: "recorded by the install that wrote it"
        case let .hashed(refusal): "hashed, since \(refusal)"
        }
    }
}
