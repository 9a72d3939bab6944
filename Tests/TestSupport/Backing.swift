/// The kinds of disk a table test runs on, each with what it needs.
public enum DiskKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case imageFile = "image file"
    case loopDevice = "loop device"
    case loopDevice4K = "4K-sector loop device"

    public var description: String { rawValue }

    public var backing: TestDisk.Backing { self == .imageFile ? .file : .loopDevice }
    public var sectorSize: Int { self == .loopDevice4K ? 4096 : 512 }
    public var needsLoopDevices: Bool { self != .imageFile }

    /// Skips or fails the test when what this kind needs is missing (see `Integration`).
    public func requirements() throws {
        try needsLoopDevices ? Integration.requireLoopDevices() : Integration.requireGPTTools()
    }
}

extension TestDisk {
    /// Builds a disk of `kind`, runs `body` on it and removes it.
    @discardableResult
    public static func with<T>(_ kind: DiskKind, extraSgdisk: [String] = [], layout: [String]? = nil,
                               _ body: (TestDisk) throws -> T) throws -> T {
        try kind.requirements()
        let disk = try TestDisk(backing: kind.backing, sectorSize: kind.sectorSize, layout: layout, extraSgdisk: extraSgdisk)
        defer { disk.remove() }
        return try body(disk)
    }
}
