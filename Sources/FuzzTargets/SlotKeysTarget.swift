import Delta
import Verification

/// A slot keys record as a delta reads the booted slot's from the state directory: the header
/// checked against the file's length, then a sample compared with its recorded keys and every
/// whole block's key read, as `DeltaPlanner` does. The file is the daemon's own, but a state
/// directory outlives the version that wrote it and may be damaged: it is input like any other.
enum SlotKeysTarget {
    /// Sampled blocks: enough to reach past the first piece of keys.
    static let sampleBlocks: UInt64 = 64

    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let path = try ScratchDirectory.write(input, to: "slot-keys/fuzz.keys")
            let record = try SlotKeysRecord.open(path)
            precondition(record.header.fileLength == UInt64(input.count))
            let whole = record.header.wholeBlocks
            let sample = (0..<sampleBlocks).map { (block: $0 * whole / sampleBlocks + $0 % 2, key: UInt64.max - $0) }
            _ = try record.firstMismatch(in: sample)
            var keys: UInt64 = 0
            try record.forEachKey(blocks: UInt64.max) { _, length in
                precondition(length == ChunkLayout.blockSize, "a key of a block that is not whole")
                keys += 1
            }
            precondition(keys == whole, "\(keys) keys read of \(whole) whole blocks")
        }
    }
}
