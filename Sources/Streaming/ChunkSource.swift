/// Where the bytes of an image come from: a bundle file, an HTTP server, or a slot being read
/// back. A source fills the pipeline's buffers through a `ChunkFiller`, either reading straight
/// into them (files, devices) or copying into them once (network data arrives in libcurl's
/// buffer).
public protocol ChunkSource: AnyObject {
    /// Delivers the image bytes from `filler.position` up to `filler.end`. Returns when they are
    /// all delivered, or throws.
    func deliver(into filler: ChunkFiller) throws
}
