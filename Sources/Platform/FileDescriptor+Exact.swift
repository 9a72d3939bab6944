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
    /// Fills `buffer` from `offset` with `pread(2)`, looping over partial reads, unless the file
    /// ends first; returns how many bytes were read. For callers to whom a short file is data
    /// (a parser that reports truncation itself), not an error.
    public func readFilling(
        fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer
    ) throws(Errno) -> Int {
        var done = 0
        while done < buffer.count {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            let count = try Errno.typed { try read(fromAbsoluteOffset: offset + Int64(done), into: chunk) }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Up to `count` bytes from `offset`; fewer when the file ends first.
    public func readBytes(upTo count: Int, fromAbsoluteOffset offset: Int64) throws(Errno) -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { (buffer, initialized) throws(Errno) in
            initialized = try readFilling(fromAbsoluteOffset: offset, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Fills `buffer` from `offset` with `pread(2)`, looping over partial reads; a file that ends
    /// first is a `ShortReadError`.
    public func readExactly(
        fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer
    ) throws {
        let done = try readFilling(fromAbsoluteOffset: offset, into: buffer)
        if done < buffer.count { throw ShortReadError(offset: offset, requested: buffer.count, received: done) }
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

    /// Writes all of `bytes` at `offset`.
    public func writeExactly(toAbsoluteOffset offset: Int64, _ bytes: [UInt8]) throws(Errno) {
        try Errno.typed { try bytes.withUnsafeBytes { try writeExactly(toAbsoluteOffset: offset, $0) } }
    }
}
