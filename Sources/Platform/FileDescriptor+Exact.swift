import SystemPackage

/// A short read at a fixed offset: the file or device ended before the requested range.
public struct ShortReadError: Error, CustomStringConvertible {
    public let offset: Int64
    public let requested: Int
    public let received: Int

    public var description: String {
        "read \(received) of \(requested) bytes at offset \(offset): the file or device ends there"
    }
}

extension FileDescriptor {
    /// Fills `buffer` from `offset` with `pread(2)`, looping over partial reads.
    public func readExactly(
        fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer
    ) throws {
        var done = 0
        while done < buffer.count {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            let count = try read(fromAbsoluteOffset: offset + Int64(done), into: chunk)
            if count == 0 { throw ShortReadError(offset: offset, requested: buffer.count, received: done) }
            done += count
        }
    }

    /// Writes all of `buffer` at `offset` with `pwrite(2)`, looping over partial writes.
    public func writeExactly(
        toAbsoluteOffset offset: Int64, _ buffer: UnsafeRawBufferPointer
    ) throws {
        var done = 0
        while done < buffer.count {
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[done...])
            done += try write(toAbsoluteOffset: offset + Int64(done), chunk)
        }
    }
}
