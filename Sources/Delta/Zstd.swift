import CZstd

/// One zstd compression context, kept for many blocks: `ZSTD_compressCCtx` reuses its memory,
/// so compressing a block allocates nothing.
final class ZstdCompressor {
    private let context: OpaquePointer
    let level: Int32

    init?(level: Int32) {
        guard let context = ZSTD_createCCtx() else { return nil }
        self.context = context
        self.level = level
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    /// Compresses `source` into `destination`; nil when it does not fit (the block is then
    /// stored raw) or zstd fails.
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        let written = ZSTD_compressCCtx(context, destination.baseAddress, destination.count,
                                        source.baseAddress, source.count, level)
        return ZSTD_isError(written) != 0 ? nil : written
    }

    /// The most a block of `count` bytes can take compressed.
    static func bound(_ count: Int) -> Int { ZSTD_compressBound(count) }
}

/// One zstd decompression context, kept for many blocks (nothing allocated per block). Input
/// from a server is hostile: zstd never writes past `destination`, and a frame that does not
/// expand to exactly `destination.count` bytes is refused.
public final class ZstdDecompressor {
    private let context: OpaquePointer

    public init?() {
        guard let context = ZSTD_createDCtx() else { return nil }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// Whether `frame` expanded to exactly `destination.count` bytes, written there.
    public func decompress(_ frame: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Bool {
        guard frame.count > 0, destination.count > 0 else { return false }
        let written = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count, frame.baseAddress, frame.count)
        return ZSTD_isError(written) == 0 && written == destination.count
    }
}
