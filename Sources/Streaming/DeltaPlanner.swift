import Delta
import Slots
import Verification

/// Plans a delta install from the booted slot. The new image's block keys are indexed as its
/// chunk table arrives; once the table is proven, a sample of the booted slot's blocks decides
/// whether it holds enough of the new image to be worth it (so that an unrelated slot costs a
/// few hundred block reads, not a pass over all of it), and only then is every block of the
/// booted slot hashed and looked up, each new block taking the first booted block with its key.
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

    /// The plan, or nil when the booted slot (`extent` of the disk at `path`) holds too little
    /// of the new image, or cannot be read: the install is then a full one. Only whole blocks of
    /// the slot are read, so that no copy reaches past it.
    func plan(bootedDisk path: String, extent: SlotExtent) -> DeltaPlan? {
        // Trimmed once the index and the sources planning took are let go.
        guard var plan = scan(bootedDisk: path, extent: extent) else { return nil }
        plan.trim()
        return plan
    }

    private func scan(bootedDisk path: String, extent: SlotExtent) -> DeltaPlan? {
        guard var plan = DeltaPlan(layout: layout), newKeys.count == Int(layout.blockCount) else { return nil }
        let index = newKeys.finish()
        newKeys = BlockIndex.Builder()
        let wholeBlocks = min(extent.length / ChunkLayout.blockSize, UInt64(BlockIndex.maximumBlocks))
        guard wholeBlocks > 0 else { return nil }
        do {
            let sample = min(DeltaPlanner.sampleBlocks, wholeBlocks)
            var found: UInt64 = 0
            try BlockKeys.forEach(hashingBlocksOf: path, from: extent.offset,
                                  blocks: (0..<sample).lazy.map { $0 * wholeBlocks / sample }) { _, key in
                if index.block(for: key) != nil { found += 1 }
            }
            guard found * 8 >= sample else { return nil }

            // Per new block, packed (`BlockSource.packed`): fetched while no source is known.
            let fetched = BlockSource.fetched.packed
            var sources = [UInt32](repeating: fetched, count: Int(layout.blockCount))
            // Zero blocks are written from nothing (a key only finds candidates: one that is
            // not zeros fails its chunk's proof and is fetched again).
            let zeros = BlockSource.zeros.packed
            index.forEachBlock(withKey: BlockKeys.zeroBlockKey) { sources[Int($0)] = zeros }
            var oldBlock: UInt64 = 0
            try BlockKeys.forEach(hashing: path, from: extent.offset, count: wholeBlocks * ChunkLayout.blockSize) { key, _ in
                defer { oldBlock += 1 }
                // A key's new blocks are all given the first booted block that has it, at once:
                // a later booted block with the same key finds the first of them taken and
                // skips the rest, so repeats cost one lookup, not one per pair.
                guard let first = index.block(for: key), sources[Int(first)] == fetched else { return }
                let booted = BlockSource.booted(oldBlock).packed
                index.forEachBlock(withKey: key) { sources[Int($0)] = booted }
            }
            for source in sources {
                plan.add(BlockSource(packed: source))
            }
        } catch {
            // The booted slot cannot be read: the install goes on in full, as it would anyway.
            return nil
        }
        return plan.isWorthwhile ? plan : nil
    }
}
