import Delta
import Platform
import Slots
import SystemPackage
import Verification

/// The image of a delta install, as `DeltaPlan` says: each block found in the booted slot is
/// read from there, zero blocks are written from nothing, every other block comes from the
/// bundle's server, into the pipeline's buffers in
/// image order. Nothing here is trusted: the pipeline proves each chunk against the signed
/// table, and a chunk that fails (a block of the booted slot that rotted or was changed since
/// its key was taken) is rejected and fetched again whole from the bundle.
final class DeltaSource: ChunkSource {
    private let plan: DeltaPlan
    private let seed: FileDescriptor
    private let seedPath: String
    private let seedExtent: SlotExtent
    private let fetched: FetchedBlocks

    /// `seedExtent`: the booted slot's bytes on `seedPath`, which the plan's old block numbers
    /// address; a block outside it is fetched instead.
    init(plan: DeltaPlan, seedPath: String, seedExtent: SlotExtent, bundle: BundleSource, imageOffset: UInt64,
         compressed: CompressedBlocks?) throws {
        self.plan = plan
        self.seedPath = seedPath
        self.seedExtent = seedExtent
        do {
            seed = try FileDescriptor.open(FilePath(seedPath), .readOnly, options: [.closeOnExec])
        } catch {
            throw StreamError.cannotOpen(path: seedPath, errno: error as? Errno ?? .ioError)
        }
        fetched = FetchedBlocks(ranges: plan.fetchRanges, imageOffset: imageOffset, bundle: bundle, compressed: compressed)
    }

    deinit {
        try? seed.close()
    }

    /// Image bytes fetched so far, and what they took to download.
    var bytesFetched: UInt64 { fetched.bytesFetched }
    var bytesDownloaded: UInt64 { fetched.bytesDownloaded }
    /// Why the block file stopped being used, if it did.
    var compressedRefusal: String? { fetched.compressedRefusal }

    func deliver(into filler: ChunkFiller) throws {
        fetched.start(at: filler.position)
        let blockSize = ChunkLayout.blockSize
        while filler.remaining > 0 {
            let space = try filler.nextSpace()
            let base = filler.position
            var offset: UInt64 = 0
            let count = UInt64(space.count)
            while offset < count {
                let block = (base + offset) / blockSize
                // A run: blocks that follow each other in the booted slot, or fetched ones, or zeros.
                let first = source(for: block)
                var end = min(count, offset + blockSize)
                while end < count {
                    guard source(for: (base + end) / blockSize) == first.advanced(by: (end - offset) / blockSize) else { break }
                    end = min(count, end + blockSize)
                }
                let piece = UnsafeMutableRawBufferPointer(rebasing: space[Int(offset)..<Int(end)])
                switch first {
                case let .booted(old):
                    try readSeed(at: old * blockSize, into: piece)
                case .zeros:
                    piece.initializeMemory(as: UInt8.self, repeating: 0)
                case .fetched:
                    try fetched.copy((base + offset)..<(base + end), into: piece)
                }
                offset = end
            }
            try filler.commit(space.count)
        }
    }

    /// Where new block `block` comes from: a booted block only when it lies wholly inside the
    /// booted slot (the planner never plans another).
    private func source(for block: UInt64) -> BlockSource {
        let source = plan.source(for: block)
        if case let .booted(old) = source, old >= seedExtent.length / ChunkLayout.blockSize { return .fetched }
        return source
    }

    private func readSeed(at offset: UInt64, into space: UnsafeMutableRawBufferPointer) throws {
        // A run never leaves the slot: its last block was checked by `oldBlock`.
        let position = seedExtent.offset + offset
        do {
            try seed.readExactly(fromAbsoluteOffset: Int64(position), into: space)
        } catch {
            throw StreamError.readFailed(path: seedPath, offset: position, detail: "\(error)")
        }
    }
}

/// The blocks a delta fetches, read ahead in batches: up to `stagingSize` bytes in up to
/// `rangesPerRequest` ranges per request (one multi-range request where the server allows it),
/// compressed from the block file while it serves, else raw from the bundle, into one staging
/// buffer allocated once, and copied out in image order.
final class FetchedBlocks {
    /// 512 KiB: what an install can spare beside the pipeline's buffers within 32 MiB of RSS
    /// (docs/streaming.md, "Memory").
    static let stagingSize = 512 << 10
    /// Ranges per request: keeps the Range header within what servers accept (nginx: 8 KiB).
    static let rangesPerRequest = 128

    private let ranges: [Range<UInt64>]
    private let imageOffset: UInt64
    private let bundle: BundleSource
    private let staging: AlignedBuffer
    /// What the staging buffer holds: image ranges and where each starts in it.
    private var staged: [(range: Range<UInt64>, at: Int)] = []
    private var stagedIndex = 0
    /// The first range not yet staged, and where its unstaged part starts.
    private var nextRange = 0
    private var nextStart: UInt64 = 0
    /// The block file; it serves until it fails once (`compressedRefusal` says why).
    private let compressed: CompressedBlocks?
    private(set) var compressedRefusal: String?
    private(set) var bytesFetched: UInt64 = 0
    private var rawBytesDownloaded: UInt64 = 0
    var bytesDownloaded: UInt64 { rawBytesDownloaded + (compressed?.bytesDownloaded ?? 0) }

    init(ranges: [Range<UInt64>], imageOffset: UInt64, bundle: BundleSource, compressed: CompressedBlocks?) {
        self.ranges = ranges
        self.imageOffset = imageOffset
        self.bundle = bundle
        self.compressed = compressed
        staging = AlignedBuffer(capacity: FetchedBlocks.stagingSize)
        staged.reserveCapacity(FetchedBlocks.rangesPerRequest)
    }

    /// Starts (or restarts, when resuming) at image offset `position`.
    func start(at position: UInt64) {
        staged.removeAll(keepingCapacity: true)
        stagedIndex = 0
        nextRange = ranges.partitioningIndex { $0.upperBound > position }
        nextStart = nextRange < ranges.count ? max(ranges[nextRange].lowerBound, position) : 0
    }

    /// Copies image bytes `range`, which the plan fetches, into `space`. Calls come in image order.
    func copy(_ range: Range<UInt64>, into space: UnsafeMutableRawBufferPointer) throws {
        var at = range.lowerBound
        while at < range.upperBound {
            while stagedIndex < staged.count, staged[stagedIndex].range.upperBound <= at { stagedIndex += 1 }
            if stagedIndex == staged.count {
                try stageNext()
                continue
            }
            let piece = staged[stagedIndex]
            guard piece.range.lowerBound <= at else {
                throw StreamError.readFailed(path: bundle.description, offset: at,
                                             detail: "the delta plan does not fetch image byte \(at)")
            }
            let count = Int(min(range.upperBound, piece.range.upperBound) - at)
            let from = piece.at + Int(at - piece.range.lowerBound)
            (space.baseAddress! + Int(at - range.lowerBound)).copyMemory(from: staging.bytes.baseAddress! + from, byteCount: count)
            at += UInt64(count)
        }
    }

    /// Fetches the next batch of ranges into the staging buffer.
    private func stageNext() throws {
        staged.removeAll(keepingCapacity: true)
        stagedIndex = 0
        var used = 0
        while nextRange < ranges.count, staged.count < FetchedBlocks.rangesPerRequest, used < staging.bytes.count {
            let end = min(ranges[nextRange].upperBound, nextStart + UInt64(staging.bytes.count - used))
            staged.append((nextStart..<end, used))
            used += Int(end - nextStart)
            if end == ranges[nextRange].upperBound {
                nextRange += 1
                nextStart = nextRange < ranges.count ? ranges[nextRange].lowerBound : 0
            } else {
                nextStart = end
            }
        }
        guard !staged.isEmpty else {
            throw StreamError.readFailed(path: bundle.description, offset: 0, detail: "the delta plan fetches nothing more")
        }
        let destination = UnsafeMutableRawBufferPointer(rebasing: staging.bytes[0..<used])
        bytesFetched += UInt64(used)
        if let compressed, compressedRefusal == nil {
            do {
                try compressed.fetch(staged.map(\.range), into: destination)
                return
            } catch let unusable as CompressedBlocks.Unusable {
                // From here on the blocks come raw from the bundle, this batch included.
                compressedRefusal = unusable.reason
            }
        }
        try bundle.fetchRanges(staged.map { ($0.range.lowerBound + imageOffset)..<($0.range.upperBound + imageOffset) },
                               into: destination)
        rawBytesDownloaded += UInt64(used)
    }
}
