import FoundationEssentials
import Platform
import SystemPackage

extension SlotPair {
    /// Why `slot` must not be written right now, or nil when nothing uses it: a mount of the
    /// partition, or a device stacked on it (dm-verity, dm-crypt, md). Image files have no
    /// kernel view to consult; for them this answers nil.
    public func usage(of slot: Slot, paths: SystemPaths = .live) -> String? {
        guard disk.isBlockDevice, let directory = disk.partitionSysfsDirectory(slot.partition.number, paths: paths) else {
            return nil
        }
        let name = FilePath(directory).lastComponent?.string ?? directory
        let holders = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/holders")) ?? []
        if !holders.isEmpty {
            return "\(name) is held by \(holders.sorted().joined(separator: ", ")) (a device-mapper or RAID device uses it)"
        }
        guard let mountPoint = disk.mountPoints(ofPartitionIn: directory, paths: paths).first else { return nil }
        return "\(name) is mounted at \(mountPoint)"
    }

}
