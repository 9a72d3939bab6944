import SystemPackage

/// What changes when a file is written to: its size and modification time. Equal stamps taken
/// before and after a pass over a file tell that nobody wrote to it meanwhile (to the
/// resolution of the file system's timestamps).
public struct FileStamp: Equatable, Sendable {
    public var size: UInt64
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int
}

extension FileDescriptor {
    /// The file's current stamp. The size comes from `sizeInBytes`, so that block devices,
    /// whose `fstat` size is 0, have a meaningful one.
    public func stamp() throws(Errno) -> FileStamp {
        let modified = try stat().st_mtim
        return FileStamp(size: try sizeInBytes(), modifiedSeconds: modified.tv_sec, modifiedNanoseconds: modified.tv_nsec)
    }
}
