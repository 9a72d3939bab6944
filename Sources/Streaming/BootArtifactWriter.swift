import Platform
import SystemPackage

/// Writes one boot artifact's bytes, as the pipeline delivers them, into the replacement file
/// that becomes the artifact on the ESP once its hash is proven. The pipeline counts offsets
/// from the start of the image; the artifact occupies `range` of them, and nothing outside it
/// is written. The caller keeps the replacement (and so the descriptor) until it commits it.
final class BootArtifactWriter: ChunkWriter, Sendable {
    private let descriptor: FileDescriptor
    private let destination: FilePath
    private let range: Range<UInt64>

    init(file: ReplacementFile, range: Range<UInt64>) {
        descriptor = file.descriptor
        destination = file.destination
        self.range = range
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(bytes.count))
        guard offset >= range.lowerBound, !overflow, end <= range.upperBound else {
            throw StreamError.outOfSlot(offset: offset, count: bytes.count, slotSize: range.upperBound)
        }
        // Below range.upperBound, which came from a checked bundle header: fits in an Int64.
        let position = Int64(offset - range.lowerBound)
        do {
            try descriptor.writeExactly(toAbsoluteOffset: position, bytes)
        } catch {
            throw StreamError.writeFailed(path: destination.string, offset: UInt64(position), detail: "\(error)")
        }
    }

    func synchronize() throws {
        do {
            try descriptor.synchronizeData()
        } catch {
            throw StreamError.syncFailed(path: destination.string, detail: "\(error)")
        }
    }
}
