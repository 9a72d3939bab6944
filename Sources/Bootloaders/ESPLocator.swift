#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Slots

/// Finds the mounted file system that holds a backend's bootloader files: the ESP, or an
/// XBOOTLDR partition (`/boot` in the Boot Loader Specification).
///
/// A path given by the administrator (`ESP=` in `[Slots]`, `--esp`) wins and must be a
/// directory. Otherwise the partition is looked for on the slots' own disk, by type, and its
/// mount point in `/proc/self/mountinfo`, matched by device number: the ESP first, then
/// XBOOTLDR. A disk-image file has no mounted partitions, so it always needs the path given.
public struct ESPLocator: Sendable {
    /// The EFI system partition's type GUID.
    public static let espType = GUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")!
    /// The Boot Loader Specification's extended boot loader partition (XBOOTLDR).
    public static let xbootldrType = GUID("bc13c2ff-59e6-4262-a352-b275fd6f7172")!

    public var paths: SystemPaths

    public init(paths: SystemPaths = .live) {
        self.paths = paths
    }

    /// The directory `kind`'s bootloader files live under. `configured` is ESP=/--esp.
    public func locate(configured: String?, on disk: Disk, for kind: BootBackendKind) throws(SlotError) -> String {
        if let configured {
            var info = stat()
            guard stat(configured, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .bootBackend(.notConfigured(backend: kind, detail: "the ESP given (ESP= in [Slots], or --esp) \(configured) "
                    + "is not a directory; give the directory the ESP (or /boot) is mounted at"))
            }
            return configured
        }
        let candidates = disk.partitions.filter { $0.typeGUID == Self.espType }
            + disk.partitions.filter { $0.typeGUID == Self.xbootldrType }
        guard !candidates.isEmpty else {
            throw .bootBackend(.notConfigured(backend: kind, detail: "\(disk.path) has no EFI system partition (type \(Self.espType)) "
                + "and no XBOOTLDR partition; pass --esp DIR (ESP= in [Slots]) naming where the bootloader's files live"))
        }
        for partition in candidates {
            if let mountPoint = disk.mountPoints(ofPartition: partition.number, paths: paths).first {
                return mountPoint
            }
        }
        let listed = candidates.map { "partition \($0.number) (\($0.typeGUID == Self.espType ? "ESP" : "XBOOTLDR"))" }
            .joined(separator: ", ")
        let why = disk.isBlockDevice ? "is not mounted" : "cannot be mounted from a disk-image file"
        throw .bootBackend(.notConfigured(backend: kind, detail: "the bootloader's file system on \(disk.path), \(listed), \(why); "
            + "mount it or pass --esp DIR (ESP= in [Slots])"))
    }
}
