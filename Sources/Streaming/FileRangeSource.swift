import Platform
import SystemPackage

/// Delivers bytes of a file or device starting at a base offset: the image part of a bundle
/// file, or a slot read back after writing (or re-hashed when an install resumes).
///
/// Reads go straight into the pipeline's buffers. With `directIO`, whole chunks bypass the page
/// cache, so a read-back sees what the device holds rather than a cached copy.
public final class FileRangeSource: ChunkSource {
    public let path: String
    public let baseOffset: UInt64
    private let direct: FileDescriptor?
    private let buffered: FileDescriptor
    private static let directAlignment = 4096

    public init(path: String, baseOffset: UInt64, directIO: Bool) throws {
        self.path = path
        self.baseOffset = baseOffset
        do {
            buffered = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw StreamError.cannotOpen(path: path, errno: error as? Errno ?? .ioError)
        }
        direct = directIO ? SlotWriter.openDirect(path, mode: .readOnly) : nil
    }

    deinit {
        try? direct?.close()
        try? buffered.close()
    }

    public func deliver(into filler: ChunkFiller) throws {
        while filler.remaining > 0 {
            let space = try filler.nextSpace()
            let offset = baseOffset + filler.position
            do {
                if let direct, space.count % FileRangeSource.directAlignment == 0 {
                    try direct.readExactly(fromAbsoluteOffset: Int64(offset), into: space)
                } else {
                    try buffered.readExactly(fromAbsoluteOffset: Int64(offset), into: space)
                }
            } catch let short as ShortReadError {
                throw StreamError.sourceEndedEarly(source: path, received: filler.position + UInt64(short.received),
                                                   expected: filler.end)
            } catch {
                throw StreamError.readFailed(path: path, offset: offset, detail: "\(error)")
            }
            try filler.commit(space.count)
        }
    }
}
