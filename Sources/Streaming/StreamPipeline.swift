#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import HTTP
import Platform
import Verification

/// The zero-copy hashing core. A producer (the calling thread, running a `ChunkSource`) fills
/// page-aligned buffers; up to three consumer threads read each buffer at the same time: the
/// image hasher, the payload hasher (when the whole bundle file's digest is to be checked too)
/// and the writer. An install therefore runs at the speed of its slowest stage, not at the sum
/// of them. The buffers are allocated once, by the first run; a chunk's trip through
/// the pipeline allocates nothing.
public final class StreamPipeline: Sendable {
    public static let defaultChunkSize = 1 << 20
    /// The producer fills one while the verifiers and the writer take the others; a fourth
    /// made no install faster on two cores and cost 1 MiB (docs/streaming.md, "The pipeline").
    public static let defaultBufferCount = 3

    public var chunkSize: Int { state.chunkSize }
    private let state: PipelineState

    public init(chunkSize: Int = StreamPipeline.defaultChunkSize, bufferCount: Int = StreamPipeline.defaultBufferCount) {
        state = PipelineState(chunkSize: chunkSize, bufferCount: max(2, bufferCount))
    }

    /// Hooks the writer thread calls. `progress` gets the image offset written so far, after
    /// every chunk; `sliceProgress` the same inside a chunk written in slices (see
    /// `progressSlice`); `durable` gets an offset up to which everything is on stable storage,
    /// every `durableInterval` bytes (for checkpoints).
    public struct Observers: Sendable {
        public var progress: @Sendable (UInt64) -> Void
        public var sliceProgress: @Sendable (UInt64) -> Void
        public var durable: @Sendable (UInt64) throws -> Void
        public var durableInterval: UInt64

        public init(progress: @escaping @Sendable (UInt64) -> Void = { _ in },
                    sliceProgress: @escaping @Sendable (UInt64) -> Void = { _ in },
                    durable: @escaping @Sendable (UInt64) throws -> Void = { _ in },
                    durableInterval: UInt64 = .max) {
            self.progress = progress
            self.sliceProgress = sliceProgress
            self.durable = durable
            self.durableInterval = durableInterval
        }
    }

    /// The most the writer writes between two progress reports. An image of fewer than 128
    /// chunks is written in slices of about 1/128 of it (64 KiB at least, aligned for O_DIRECT),
    /// so that progress moves by less than 1% at a time, as update_engine's clients expect a
    /// StatusUpdate per 1%; from 128 chunks up a slice is the whole chunk, the write size as before.
    static func progressSlice(for range: Range<UInt64>, chunkSize: Int) -> Int {
        let granule = 64 << 10
        let share = Int(clamping: (range.upperBound - range.lowerBound) / 128) / granule * granule
        return max(1, min(chunkSize, max(granule, share)))
    }

    /// How a run proves the image: one digest of all of it, in order (formats 1 and 2), or each
    /// chunk against its digest in the signed chunk table (format 3), on every core.
    public enum ImageCheck {
        case digest(SHA256)
        case chunks(ChunkDigests, onMismatch: MismatchPolicy = .fail)
    }

    /// What a chunk that does not match its digest does to a run.
    public enum MismatchPolicy: Sendable {
        /// Ends the run with `.chunkMismatch`: the bytes came from the bundle, which is wrong.
        case fail
        /// Skips the chunk (nothing of it is written) and goes on; the run returns it. For
        /// bytes that came from somewhere else (the booted slot in a delta, the target slot when
        /// resuming), which the bundle's own bytes then replace.
        case reject
    }

    /// Threads that verify chunks side by side: one per core, as many as there are buffers to
    /// keep busy at most.
    var verifierCount: Int {
        max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), state.bufferCount - 1))
    }

    /// Streams `range` of the image from `source` through `check`, `payloadHasher` and
    /// `writer`, the last two when given. On return every byte is hashed and, with a writer,
    /// written and synced. With `.chunks`, no byte of a chunk is written before the chunk
    /// matched its digest; a chunk that does not fails the run with `.chunkMismatch`, or with
    /// `.reject` is skipped and returned, in image order, among the run's rejected table chunks.
    ///
    /// `payloadHasher` is a second digest of the same bytes, on a thread of its own so that it
    /// costs a core rather than time; the caller feeds it what comes before the image (the
    /// bundle's preamble) first. Without it no second thread runs.
    @discardableResult
    public func run(source: ChunkSource, range: Range<UInt64>, check: ImageCheck, payloadHasher: SHA256? = nil,
                    writer: ChunkWriter?, observers: Observers = Observers()) throws -> [Int] {
        var verifies = false
        if case let .chunks(digests, _) = check {
            // A pipeline chunk must hold whole table chunks, and start where one starts.
            guard UInt64(state.chunkSize) % digests.layout.chunkSize == 0,
                  range.lowerBound % digests.layout.chunkSize == 0, range.upperBound <= digests.layout.imageSize else {
                throw StreamError.chunkLayoutUnsupported(chunkSize: digests.layout.chunkSize, bufferSize: state.chunkSize)
            }
            verifies = true
        }
        state.reset(payloadHasher: payloadHasher != nil, writer: writer != nil, verifiesChunks: verifies && writer != nil)
        let hashOnly = writer == nil
        var consumers: [JoinableThread] = []
        switch check {
        case let .digest(hasher):
            consumers.append(JoinableThread { [state] in
                StreamPipeline.hash(state, as: .hasher, into: hasher) { hashed in
                    // Without a writer, hashing is the progress.
                    if hashOnly { observers.progress(hashed) }
                }
            })
        case let .chunks(digests, policy):
            for _ in 0..<verifierCount {
                consumers.append(JoinableThread { [state] in
                    StreamPipeline.verify(state, against: digests, policy: policy) { proven in
                        if hashOnly { observers.progress(range.lowerBound + proven) }
                    }
                })
            }
        }
        if let payloadHasher {
            consumers.append(JoinableThread { [state] in
                StreamPipeline.hash(state, as: .payloadHasher, into: payloadHasher) { _ in }
            })
        }
        if let writer {
            consumers.append(JoinableThread { [state] in
                var nextDurable = range.lowerBound &+ observers.durableInterval
                let slice = StreamPipeline.progressSlice(for: range, chunkSize: state.chunkSize)
                while let index = state.nextChunk(for: .writer) {
                    let offset = state.offsets[index], length = state.lengths[index]
                    do {
                        var sliceStart = state.isProven(index) ? 0 : length
                        while sliceStart < length {
                            let sliceEnd = min(length, sliceStart + slice)
                            try writer.write(UnsafeRawBufferPointer(rebasing: state.buffers[index].bytes[sliceStart..<sliceEnd]),
                                             at: offset + UInt64(sliceStart))
                            sliceStart = sliceEnd
                            if sliceEnd < length { observers.sliceProgress(offset + UInt64(sliceEnd)) }
                        }
                        state.release(index)
                        let written = offset + UInt64(length)
                        state.recordWritten(written)
                        observers.progress(written)
                        if written >= nextDurable && written < range.upperBound {
                            try writer.synchronize()
                            try observers.durable(written)
                            nextDurable = written &+ observers.durableInterval
                        }
                    } catch {
                        state.fail(error)
                    }
                }
            })
        }

        let filler = ChunkFiller(state: state, range: range)
        var sourceFailure: (any Error)?
        do {
            try source.deliver(into: filler)
            if filler.position != range.upperBound {
                throw StreamError.sourceEndedEarly(source: "the source", received: filler.position, expected: range.upperBound)
            }
        } catch {
            sourceFailure = error
        }
        state.finishProducing()
        consumers.forEach { $0.join() }
        // The source broke off (a dropped connection, a killed server) or the run was
        // cancelled (a user's cancel, a service stopping). What was written stays; record it, so
        // that the next attempt resumes from there.
        func keepWrittenPrefix() throws {
            if let writer, state.writtenThrough > range.lowerBound, state.writtenThrough < range.upperBound {
                try writer.synchronize()
                try observers.durable(state.writtenThrough)
            }
        }
        if let failure = state.firstFailure {
            if case .cancelled? = failure as? StreamError { try keepWrittenPrefix() }
            throw failure
        }
        if let sourceFailure {
            try keepWrittenPrefix()
            throw sourceFailure
        }
        try writer?.synchronize()
        return state.rejectedChunks
    }

    /// A hashing consumer's loop: every chunk in order into `hasher`, then `hashed` with the
    /// image offset reached. Hashing cannot fail, so only a failure elsewhere ends it early.
    private static func hash(_ state: PipelineState, as consumer: PipelineState.Consumer, into hasher: SHA256,
                             hashed: (UInt64) -> Void) {
        while let index = state.nextChunk(for: consumer) {
            let length = state.lengths[index]
            hasher.update(UnsafeRawBufferPointer(rebasing: state.buffers[index].bytes[0..<length]))
            let reached = state.offsets[index] + UInt64(length)
            state.release(index)
            hashed(reached)
        }
    }

    /// A verifier's loop: takes any chunk that is ready, hashes each table chunk in it with this
    /// thread's own context into this thread's own digest buffer (nothing allocated per chunk),
    /// and either marks it proven, or fails the run or rejects the chunk, as `policy` says.
    private static func verify(_ state: PipelineState, against digests: ChunkDigests, policy: MismatchPolicy,
                               proven: (UInt64) -> Void) {
        let hasher = SHA256()
        var digest = [UInt8](repeating: 0, count: SHA256.digestLength)
        let tableChunk = Int(digests.layout.chunkSize)
        while let index = state.nextChunk(for: .hasher) {
            let offset = state.offsets[index], length = state.lengths[index]
            var start = 0
            var mismatch: StreamError?
            // A buffer is written whole or not at all: once one of its table chunks failed, all
            // of them are rejected, to be fetched again.
            var failed: Range<Int>?
            while start < length {
                let chunk = Int((offset + UInt64(start)) / digests.layout.chunkSize)
                let end = min(length, start + tableChunk)
                hasher.reset()
                hasher.update(UnsafeRawBufferPointer(rebasing: state.buffers[index].bytes[start..<end]))
                hasher.finalize(into: &digest)
                let matches = digest.withUnsafeBytes { digests.matches($0, chunk: chunk) }
                if !matches && policy == .fail {
                    mismatch = .chunkMismatch(chunk: chunk, range: digests.layout.chunkRange(chunk))
                    break
                }
                if !matches && failed == nil {
                    let first = Int(offset / digests.layout.chunkSize)
                    let last = Int((offset + UInt64(length) - 1) / digests.layout.chunkSize)
                    failed = first..<(last + 1)
                    break
                }
                start = end
            }
            if let mismatch {
                state.fail(mismatch)
                state.release(index)
                return
            }
            let total = state.judge(index, rejecting: failed)
            state.release(index)
            proven(total)
        }
    }

    /// Stops a run in progress: the producer and every consumer give up at the next chunk.
    /// Every later run fails at once too: a cancelled pipeline stays cancelled.
    public func cancel() {
        state.cancel()
    }

    /// Whether `cancel` was called: for the waits around a run (the disk's lock) to give up too.
    public var isCancelled: Bool {
        state.isCancelled
    }

    /// What a download feeding this pipeline looks at between bytes and between retries.
    var cancellation: any TransferCancellation { state }
}
