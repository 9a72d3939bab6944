import FoundationEssentials
import Platform
import SystemPackage

/// Where the partitions of a block device are mounted, from the kernel's own views: sysfs for
/// the partition's device number, `/proc/self/mountinfo` for its mounts. Image files have no
/// partition devices, so nothing of theirs is ever mounted.
extension Disk {
    /// Mount points of partition `number`, in mount-table order; empty when it is not mounted
    /// or the disk is an image file.
    public func mountPoints(ofPartition number: Int, paths: SystemPaths = .live) -> [String] {
        guard isBlockDevice, let directory = partitionSysfsDirectory(number, paths: paths) else { return [] }
        return mountPoints(ofPartitionIn: directory, paths: paths)
    }

    /// `/sys/class/block/sda/sda3` style directory of partition `number` of this disk.
    func partitionSysfsDirectory(_ number: Int, paths: SystemPaths) -> String? {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let diskDirectory = paths.sys + "/class/block/" + (FilePath(resolved).lastComponent?.string ?? "")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: diskDirectory)) ?? []
        for entry in entries.sorted().map({ diskDirectory + "/" + $0 }) {
            let text = try? String(contentsOfFile: entry + "/partition", encoding: .utf8)
            if let text, Int(text.trimmingWhitespace()) == number { return entry }
        }
        return nil
    }

    /// Mount points of the partition whose sysfs directory is `directory`: the mounts whose
    /// device number (that of the mount source when it is a block device, since btrfs reports
    /// an anonymous one) is the partition's `dev`.
    func mountPoints(ofPartitionIn directory: String, paths: SystemPaths) -> [String] {
        guard let device = try? String(contentsOfFile: directory + "/dev", encoding: .utf8).trimmingWhitespace(),
              let mountinfo = try? String(contentsOfFile: paths.proc + "/self/mountinfo", encoding: .utf8)
        else { return [] }
        return MountInfo.mounts(of: device, in: mountinfo).map(\.mountPoint)
    }
}

extension MountInfo {
    /// The mounts in `text` (mountinfo) of the device written `major:minor` as sysfs writes it.
    /// Lines that do not parse are skipped: they name no device of ours.
    static func mounts(of device: String, in text: String) -> [MountInfo] {
        text.split(separator: "\n").compactMap { line in
            guard let mount = parse(String(line)) else { return nil }
            let number = BootedPartitionDetector.deviceNumber(ofBlockDevice: mount.source) ?? mount.device
            return "\(number.major):\(number.minor)" == device ? mount : nil
        }
    }
}
