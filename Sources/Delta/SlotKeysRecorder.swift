import Platform
import SystemPackage
import Verification

/// Writes a slot keys record (`SlotKeysHeader`) as the keys arrive with the chunk table, beside
/// its destination; `commit` gives it its name once the slot holds the image. Dropped without a
/// commit (the install failed), the partial record goes away.
public final class SlotKeysRecorder {
    public let path: String
    private let header: SlotKeysHeader
    private let file: ReplacementFile
    /// Keys waiting to be written: let go once all of them are, since the install's memory is
    /// needed for its buffers by then.
    private var pending: [UInt8]
    private var keysWritten: UInt64 = 0
    private var failure: Errno?
    private static let bufferSize = 64 << 10

    public init(path: String, imageSize: UInt64, imageSHA256: [UInt8]) throws(Errno) {
        self.path = path
        header = SlotKeysHeader(imageSize: imageSize, imageSHA256: imageSHA256)
        file = try ReplacementFile(destination: FilePath(path), permissions: [.ownerReadWrite, .groupRead, .otherRead])
        pending = header.serialized()
        pending.reserveCapacity(SlotKeysRecorder.bufferSize)
    }

    /// The file name the record has until `commit`.
    public var temporaryName: String { FilePath(file.temporary).lastComponent?.string ?? "" }

    /// The next block's key, in image order (the first 8 bytes of its SHA-256, as a number).
    public func append(_ key: UInt64) {
        guard failure == nil else { return }
        for shift in stride(from: 56, through: 0, by: -8) {
            pending.append(UInt8(truncatingIfNeeded: key >> UInt64(shift)))
        }
        keysWritten += 1
        if pending.count >= SlotKeysRecorder.bufferSize { flush() }
    }

    private func flush() {
        do {
            try file.descriptor.writeAll(pending)
            pending.removeAll(keepingCapacity: true)
        } catch {
            failure = error as? Errno ?? .ioError
        }
    }

    /// Writes what is still buffered and lets the buffer go: every key arrived.
    public func finishKeys() throws(Errno) {
        flush()
        pending = []
        if let failure { throw failure }
        guard keysWritten == header.blockCount else { throw Errno.invalidArgument }
    }

    /// Makes the record durable under its name, replacing the one before.
    public func commit() throws(Errno) {
        if let failure { throw failure }
        try file.commit()
    }
}
