import HTTP
import Platform
import Synchronization

/// The buffers and the queues between the producer and its consumers, under one lock.
///
/// Up to three consumers read each chunk at the same time: the image hasher (always), the
/// payload hasher (when an update server stated a digest of the whole bundle file) and the
/// writer (unless the run only reads). They only read it, and it returns to the free list when
/// all of them are done. The queues are fixed rings of buffer indices, one per consumer, so
/// passing a chunk allocates nothing.
///
/// `@unchecked Sendable` because the buffers and the offset and length tables are raw memory
/// that the consumer threads read outside the lock: the lock (a pthread mutex and condition)
/// orders each hand-over, so an entry is written before it is queued and read only while its
/// buffer is out of the free list. Everything else is read and written under the lock.
final class PipelineState: TransferCancellation, @unchecked Sendable {
    /// Who reads the chunks. The raw value indexes `queues` and `active`.
    enum Consumer: Int, CaseIterable {
        case hasher, payloadHasher, writer
    }

    let chunkSize: Int
    let bufferCount: Int
    /// Allocated by the first run, not when the pipeline is made: what an install does before
    /// (reading a chunk table, planning a delta) then has their memory to itself. Written only
    /// by `reset`, before a run's threads start.
    private(set) var buffers: [AlignedBuffer] = []
    private let condition = Condition()

    private var free: [Int]
    /// One ring per consumer, by `Consumer.rawValue`; each is as long as there are buffers, so
    /// it never grows.
    private var queues: [IndexRing]
    /// Which consumers take part in the current run, by `Consumer.rawValue`.
    private var active: [Bool]
    private var pendingConsumers: [Int]
    /// Where each buffer's chunk belongs and how long it is. Raw memory rather than arrays: the
    /// consumers read an entry while the producer writes another, and a Swift array would see
    /// the concurrent access as sharing and copy itself.
    let offsets: UnsafeMutableBufferPointer<UInt64>
    let lengths: UnsafeMutableBufferPointer<Int>
    /// Whether each buffer's chunk was proven against its signed digest (format 3): the writer
    /// takes a chunk only once it has been judged, so no byte of a chunk reaches the slot before
    /// it is proven, and skips a rejected one.
    private let verdicts: UnsafeMutableBufferPointer<ChunkVerdict>
    /// The table chunks rejected in this run (a delta's copied blocks that did not prove out),
    /// to be fetched again whole.
    private var rejected: [Int] = []
    /// Whether the writer waits for `verified` (a run with a chunk table).
    private var writerWaitsForVerification = false
    /// Bytes the verifiers have proven in this run, in whatever order they finished.
    private var verifiedBytes: UInt64 = 0
    private var consumersPerChunk = 1
    private var producerFinished = false
    private var failure: (any Error)?
    /// Set by `cancel` and kept across runs: a cancel that arrives between two runs of one
    /// install (hashing the resumed prefix, then streaming) must stop the second one too.
    /// Atomic, so that libcurl's progress callback reads it without the pipeline's lock.
    private let cancelled = Atomic<Bool>(false)
    /// The image offset up to which the writer has written, in order.
    private var written: UInt64 = 0

    init(chunkSize: Int, bufferCount: Int) {
        self.chunkSize = chunkSize
        self.bufferCount = bufferCount
        free = Array((0..<bufferCount).reversed())
        free.reserveCapacity(bufferCount)
        queues = Consumer.allCases.map { _ in IndexRing(capacity: bufferCount) }
        active = Consumer.allCases.map { $0 == .hasher }
        pendingConsumers = Array(repeating: 0, count: bufferCount)
        offsets = .allocate(capacity: bufferCount)
        offsets.initialize(repeating: 0)
        lengths = .allocate(capacity: bufferCount)
        lengths.initialize(repeating: 0)
        verdicts = .allocate(capacity: bufferCount)
        verdicts.initialize(repeating: .pending)
    }

    deinit {
        offsets.deallocate()
        lengths.deallocate()
        verdicts.deallocate()
    }

    /// Prepares for a run: every buffer free, no failure. The image hasher always takes part;
    /// the payload hasher and the writer when asked.
    func reset(payloadHasher: Bool, writer: Bool, verifiesChunks: Bool = false) {
        if buffers.isEmpty {
            buffers = (0..<bufferCount).map { _ in AlignedBuffer(capacity: chunkSize) }
        }
        condition.locked {
            free.removeAll(keepingCapacity: true)
            free.append(contentsOf: (0..<buffers.count).reversed())
            for consumer in Consumer.allCases {
                queues[consumer.rawValue].removeAll()
            }
            active[Consumer.hasher.rawValue] = true
            active[Consumer.payloadHasher.rawValue] = payloadHasher
            active[Consumer.writer.rawValue] = writer
            consumersPerChunk = 1 + (payloadHasher ? 1 : 0) + (writer ? 1 : 0)
            producerFinished = false
            failure = cancelled.load(ordering: .acquiring) ? StreamError.cancelled : nil
            written = 0
            writerWaitsForVerification = verifiesChunks
            verifiedBytes = 0
            rejected.removeAll()
        }
    }

    var writtenThrough: UInt64 { condition.locked { written } }

    func recordWritten(_ offset: UInt64) {
        condition.locked { written = offset }
    }

    var hasFailed: Bool { condition.locked { failure != nil } }
    var firstFailure: (any Error)? { condition.locked { failure } }

    /// Stops every thread at once: a consumer failed or the run was cancelled. (A producer that
    /// fails just finishes early, so that the chunks it already delivered still land.)
    func fail(_ error: any Error) {
        condition.locked {
            if failure == nil { failure = error }
            condition.broadcast()
        }
    }

    var isCancelled: Bool {
        cancelled.load(ordering: .acquiring)
    }

    func waitForCancel(seconds: Double) -> Bool {
        condition.locked {
            condition.wait(seconds: seconds) { cancelled.load(ordering: .acquiring) }
        }
    }

    func cancel() {
        // Stored under the lock, so that a waiter between its check and its wait cannot miss
        // the broadcast that `fail` sends.
        condition.locked { cancelled.store(true, ordering: .releasing) }
        fail(StreamError.cancelled)
    }

    func takeFreeBuffer() throws -> Int {
        try condition.locked {
            condition.wait { failure != nil || !free.isEmpty }
            if let failure { throw failure }
            return free.removeLast()
        }
    }

    func publish(_ index: Int, offset: UInt64, length: Int) throws {
        try condition.locked {
            if let failure { throw failure }
            offsets[index] = offset
            lengths[index] = length
            verdicts[index] = .pending
            pendingConsumers[index] = consumersPerChunk
            for consumer in Consumer.allCases where active[consumer.rawValue] {
                queues[consumer.rawValue].append(index)
            }
            condition.broadcast()
        }
    }

    func finishProducing() {
        condition.locked {
            producerFinished = true
            condition.broadcast()
        }
    }

    /// The next chunk for `consumer`, or nil when the producer is done and the queue is empty,
    /// or when the pipeline failed.
    ///
    /// In a run that verifies chunks, the writer's next chunk is the oldest one, once it is
    /// proven: writes stay in order, so the written part of the slot is always a prefix.
    func nextChunk(for consumer: Consumer) -> Int? {
        condition.locked {
            let gated = consumer == .writer && writerWaitsForVerification
            condition.wait {
                guard failure == nil else { return true }
                guard let head = queues[consumer.rawValue].first else { return producerFinished }
                return !gated || verdicts[head] != .pending
            }
            if failure != nil { return nil }
            return queues[consumer.rawValue].popFirst()
        }
    }

    /// A verifier judged the chunk in buffer `index`: proven, or rejected with the table
    /// chunks in it that failed. Returns the bytes judged so far in this run, for progress that
    /// never goes back.
    func judge(_ index: Int, rejecting failed: Range<Int>? = nil) -> UInt64 {
        condition.locked {
            verdicts[index] = failed == nil ? .proven : .rejected
            if let failed { rejected.append(contentsOf: failed) }
            verifiedBytes += UInt64(lengths[index])
            condition.broadcast()
            return verifiedBytes
        }
    }

    /// Whether the writer may write the chunk in buffer `index` (it was not rejected).
    func isProven(_ index: Int) -> Bool {
        condition.locked { verdicts[index] != .rejected }
    }

    /// The table chunks rejected in this run, in image order.
    var rejectedChunks: [Int] { condition.locked { rejected.sorted() } }

    /// One consumer is done with the chunk in buffer `index`; the buffer is free again once all are.
    func release(_ index: Int) {
        condition.locked {
            pendingConsumers[index] -= 1
            if pendingConsumers[index] == 0 {
                free.append(index)
                condition.broadcast()
            }
        }
    }
}

/// What the verifiers found of a buffer's chunk.
enum ChunkVerdict {
    case pending, proven, rejected
}

/// A fixed-capacity FIFO of buffer indices.
struct IndexRing {
    private var slots: [Int]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        slots = Array(repeating: 0, count: capacity)
    }

    var isEmpty: Bool { count == 0 }

    /// The oldest index, without removing it.
    var first: Int? { count > 0 ? slots[head] : nil }

    mutating func append(_ index: Int) {
        precondition(count < slots.count, "more chunks in flight than buffers")
        slots[(head + count) % slots.count] = index
        count += 1
    }

    mutating func popFirst() -> Int? {
        guard count > 0 else { return nil }
        let index = slots[head]
        head = (head + 1) % slots.count
        count -= 1
        return index
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }
}
