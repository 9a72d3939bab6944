import Delta
import Slots
import Verification

/// Plans a delta install from the booted slot. The new image's block keys are indexed as its
/// chunk table arrives; once the table is proven, a sample of the booted slot's blocks decides
/// whether it holds enough of the new image to be worth it (so that an unrelated slot costs a
/// few hundred block reads, not a pass over all of it), and only then is every block of the
/// booted slot looked up, each new block taking the first booted block with its key. The booted
/// slot's keys come from the record of the install that wrote it when the sample agrees with
/// that record, and from hashing all of the slot otherwise.
final class DeltaPlanner {
    /// Booted blocks hashed to decide; at least an eighth of them must be in the new image.
    static let sampleBlocks: UInt64 = 1024

    let layout: ChunkLayout
    private var newKeys: BlockIndex.Builder

    /// Nil when the image has more blocks than a plan holds: it installs in full.
    init?(layout: ChunkLayout) {
        guard DeltaPlan(layout: layout) != nil else { return nil }
        self.layout = layout
        newKeys = BlockIndex.Builder(expectedBlocks: layout.blockCount)
    }

    /// The new image's next block key, in image order, as the chunk table's reader hands it on.
    func add(key: UInt64) {
        newKeys.append(key)
    }

    /// The plan and where it took the booted slot's keys from, or nil when the booted slot
    /// (`extent` of the disk at `path`) holds too little of the new image, or cannot be read:
    /// the install is then a full one. Only whole blocks of the slot are read, so that no copy
    /// reaches past it. `record`: the booted slot's recorded keys, or why there are none to use.
    func plan(bootedDisk path: String, extent: SlotExtent,
              record: Result<SlotKeysRecord, SlotKeysRefusal>) -> (plan: DeltaPlan, bootedKeys: BootedSlotKeys)? {
        // Trimmed once the index and the sources planning took are let go.
        guard var planned = scan(bootedDisk: path, extent: extent, record: record) else { return nil }
        planned.plan.trim()
        return planned
    }

    private func scan(bootedDisk path: String, extent: SlotExtent,
                      record: Result<SlotKeysRecord, SlotKeysRefusal>) -> (plan: DeltaPlan, bootedKeys: BootedSlotKeys)? {
        guard var plan = DeltaPlan(layout: layout), newKeys.count == Int(layout.blockCount) else { return nil }
        // Taken out of the property first: finishing the property itself would sort a copy,
        // and hold two indexes (2.6 MB each for the bench pair) at once.
        var keys = BlockIndex.Builder()
        swap(&keys, &newKeys)
        let index = (consume keys).finish()
        let wholeBlocks = min(extent.length / ChunkLayout.blockSize, UInt64(BlockIndex.maximumBlocks))
        guard wholeBlocks > 0 else { return nil }
        do {
            let sampleCount = min(DeltaPlanner.sampleBlocks, wholeBlocks)
            var sample: [(block: UInt64, key: UInt64)] = []
            sample.reserveCapacity(Int(sampleCount))
            try BlockKeys.forEach(hashingBlocksOf: path, from: extent.offset,
                                  blocks: (0..<sampleCount).lazy.map { $0 * wholeBlocks / sampleCount }) { block, key in
                sample.append((block, key))
            }
            guard UInt64(sample.count(where: { index.block(for: $0.key) != nil })) * 8 >= sampleCount else { return nil }
            // The record stands for the slot only while every sampled block still hashes to its
            // recorded key; a block it gets wrong beyond the sample fails its chunk's proof and
            // is fetched again.
            var recorded = record
            if case let .success(candidate) = record {
                do throws(SlotKeysRefusal) {
                    if let block = try candidate.firstMismatch(in: sample) { recorded = .failure(.slotChanged(block: block)) }
                } catch {
                    recorded = .failure(error)
                }
            }
            let bootedKeys: BootedSlotKeys = switch recorded {
            case .success: .recorded
            case let .failure(refusal): .hashed(refusal)
            }

            // Per new block, packed (`BlockSource.packed`): fetched while no source is known.
            let fetched = BlockSource.fetched.packed
            var sources = [UInt32](repeating: fetched, count: Int(layout.blockCount))
            // Zero blocks are written from nothing (a key only finds candidates: one that is
            // not zeros fails its chunk's proof and is fetched again).
            let zeros = BlockSource.zeros.packed
            index.forEachBlock(withKey: BlockKeys.zeroBlockKey) { sources[Int($0)] = zeros }
            var oldBlock: UInt64 = 0
            func lookUp(_ key: UInt64, _: UInt64) {
                defer { oldBlock += 1 }
                // A key's new blocks are all given the first booted block that has it, at once:
                // a later booted block with the same key finds the first of them taken and
                // skips the rest, so repeats cost one lookup, not one per pair.
                guard let first = index.block(for: key), sources[Int(first)] == fetched else { return }
                let booted = BlockSource.booted(oldBlock).packed
                index.forEachBlock(withKey: key) { sources[Int($0)] = booted }
            }
            switch recorded {
            case let .success(record):
                try record.forEachKey(blocks: wholeBlocks, lookUp)
            case .failure:
                try BlockKeys.forEach(hashing: path, from: extent.offset, count: wholeBlocks * ChunkLayout.blockSize, lookUp)
            }
            for source in sources {
                plan.add(BlockSource(packed: source))
            }
            return plan.isWorthwhile ? (plan, bootedKeys) : nil
        } catch {
            // The booted slot cannot be read: the install goes on in full, as it would anyway.
            return nil
        }
    }
}
