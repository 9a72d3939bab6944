import FoundationEssentials
import Platform
import SystemPackage

extension SlotPair {
    /// Why `slot` must not be written right now, or nil when nothing uses it: a mount of the
    /// partition, or a device stacked on it (dm-verity, dm-crypt, md). Image files have no
    /// kernel view to consult; for them this answers nil.
    public func usage(of slot: Slot, paths: SystemPaths = .live) -> String? {
        guard disk.isBlockDevice, let directory = partitionSysfsDirectory(slot.partition.number, paths: paths) else {
            return nil
        }
        let name = FilePath(directory).lastComponent?.string ?? directory
        let holders = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/holders")) ?? []
        if !holders.isEmpty {
            return "\(name) is held by \(holders.sorted().joined(separator: ", ")) (a device-mapper or RAID device uses it)"
        }
        guard let device = try? String(contentsOfFile: directory + "/dev", encoding: .utf8)
            .trimmingWhitespace(),
            let mountinfo = try? String(contentsOfFile: paths.proc + "/self/mountinfo", encoding: .utf8)
        else { return nil }
        for line in mountinfo.split(separator: "\n") {
            guard let mount = MountInfo.parse(String(line)) else { continue }
            let number = BootedPartitionDetector.deviceNumber(ofBlockDevice: mount.source) ?? mount.device
            if "\(number.major):\(number.minor)" == device {
                return "\(name) is mounted at \(mount.mountPoint)"
            }
        }
        return nil
    }

    /// `/sys/class/block/sda/sda3` style directory of partition `number` of this disk.
    private func partitionSysfsDirectory(_ number: Int, paths: SystemPaths) -> String? {
        let resolved = URL(fileURLWithPath: disk.path).resolvingSymlinksInPath().path
        let diskDirectory = paths.sys + "/class/block/" + (FilePath(resolved).lastComponent?.string ?? "")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: diskDirectory)) ?? []
        for entry in entries.map({ diskDirectory + "/" + $0 }) {
            let text = try? String(contentsOfFile: entry + "/partition", encoding: .utf8)
            if let text, Int(text.trimmingWhitespace()) == number { return entry }
        }
        return nil
    }
}
