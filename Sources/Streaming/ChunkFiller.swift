import Platform

/// The producer's side of the pipeline: hands out free buffers, waits when none is free (that
/// wait is the backpressure that keeps memory bounded when the source outruns the disk), and
/// passes each full buffer to the hasher and the writer.
public final class ChunkFiller {
    /// Absolute image offset of the next byte to deliver.
    public private(set) var position: UInt64
    /// Image offset one past the last byte to deliver.
    public let end: UInt64

    private let state: PipelineState
    private var current: Int?
    private var filled = 0

    init(state: PipelineState, range: Range<UInt64>) {
        self.state = state
        position = range.lowerBound
        end = range.upperBound
    }

    public var remaining: UInt64 { end - position }

    /// Free space in the buffer being filled, never more than the image still needs. Waits for a
    /// buffer when none is free; throws once the pipeline has failed or been cancelled.
    public func nextSpace() throws -> UnsafeMutableRawBufferPointer {
        if current == nil {
            current = try state.takeFreeBuffer()
            filled = 0
        }
        let chunkLength = Int(min(UInt64(state.chunkSize), end - (position - UInt64(filled))))
        let buffer = state.buffers[current!].bytes
        return UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<chunkLength])
    }

    /// Records that `count` bytes were written into the space `nextSpace` returned; a full
    /// chunk goes to the consumers.
    public func commit(_ count: Int) throws {
        guard let index = current else { return }
        filled += count
        position += UInt64(count)
        let chunkStart = position - UInt64(filled)
        let chunkLength = Int(min(UInt64(state.chunkSize), end - chunkStart))
        if filled == chunkLength {
            current = nil
            try state.publish(index, offset: chunkStart, length: filled)
        }
    }

    /// Copies `data` into the buffers: the one copy network data needs.
    public func append(_ data: UnsafeRawBufferPointer) throws {
        var consumed = 0
        while consumed < data.count {
            let space = try nextSpace()
            let count = min(space.count, data.count - consumed)
            space.baseAddress!.copyMemory(from: data.baseAddress! + consumed, byteCount: count)
            try commit(count)
            consumed += count
        }
    }

    /// Whether the pipeline has already failed, so a source can stop early.
    public var isFailed: Bool { state.hasFailed }
}
