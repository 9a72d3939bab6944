/// Where the pipeline's writer thread puts the bytes: a slot (`SlotWriter`) or a boot
/// artifact's file on the ESP (`BootArtifactWriter`). Offsets are the pipeline's, counted from
/// the start of the image; each writer maps them to its own place and refuses anything outside.
public protocol ChunkWriter: AnyObject, Sendable {
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws
    /// Makes every byte written so far durable.
    func synchronize() throws
}

extension SlotWriter: ChunkWriter {}
