#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Platform
import SystemPackage

/// The partition the running system booted from, and how that was established.
public struct BootedPartition: Sendable, Equatable {
    /// The whole-disk device that holds the partition, e.g. `/dev/sda`.
    public var disk: String
    public var number: Int
    /// In words, where this came from (for logs and `updatectl status`).
    public var evidence: String
}

/// Finds the booted partition: first from the kernel command line (`verity.usr=`, `usr=`,
/// `mount.usr=` naming `PARTUUID=`, `PARTLABEL=` or a device), then from the device behind
/// the `/usr` mount, followed through device-mapper to the partition underneath. The command
/// line's `tandem.slot=` names the slot itself (`namedSlot`).
public struct BootedPartitionDetector {
    public var paths: SystemPaths

    public init(paths: SystemPaths = .live) {
        self.paths = paths
    }

    /// Command-line keys in the order they are trusted: with dm-verity, `mount.usr=` names the
    /// mapped device and `verity.usr=` the partition under it.
    static let commandLineKeys = ["verity.usr", "usr", "mount.usr"]

    public func detect() throws(SlotError) -> BootedPartition {
        var attempts: [String] = []
        if let found = try fromCommandLine(attempts: &attempts) { return found }
        if let found = try fromUsrMount(attempts: &attempts) { return found }
        throw .bootedSlotUnknown(detail: attempts.joined(separator: "; "))
    }

    /// What the running system says about its boot: the partition named on the command line
    /// (`usr=`, `mount.usr=`, `verity.usr=`), the slot named there (`tandem.slot=`), or both.
    /// Only when the command line names neither is the device behind `/usr` asked: where a
    /// bootloader names the slot, `/usr` may well not be a slot at all.
    public func detectEvidence() throws(SlotError) -> (partition: BootedPartition?, slot: NamedSlot?) {
        var attempts: [String] = []
        let named = try namedSlot()
        if let found = try fromCommandLine(attempts: &attempts) { return (found, named) }
        if let named { return (nil, named) }
        if let found = try fromUsrMount(attempts: &attempts) { return (found, nil) }
        throw .bootedSlotUnknown(detail: attempts.joined(separator: "; "))
    }

    /// The kernel command line's `tandem.slot=a|b`, which Tandem's grub-env, systemd-boot and
    /// custom setups pass. Nil when absent; an error when it names no slot, since a bootloader
    /// that says something unreadable about the boot must not be guessed around.
    public func namedSlot() throws(SlotError) -> NamedSlot? {
        guard let text = try? String(contentsOfFile: paths.proc + "/cmdline", encoding: .utf8),
              let value = BootedPartitionDetector.parseCommandLine(text)[NamedSlot.commandLineKey]
        else { return nil }
        guard let name = SlotName(rawValue: value.uppercased()) else {
            let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
            throw .bootedSlotUnknown(detail: "the kernel command line's \(NamedSlot.commandLineKey)=\(shown) names no slot; "
                + "it must be a or b (check the bootloader's configuration)")
        }
        return NamedSlot(name: name, evidence: "kernel command line \(NamedSlot.commandLineKey)=\(value)")
    }

    // MARK: Kernel command line

    private func fromCommandLine(attempts: inout [String]) throws(SlotError) -> BootedPartition? {
        guard let text = try? String(contentsOfFile: paths.proc + "/cmdline", encoding: .utf8) else {
            attempts.append("\(paths.proc)/cmdline is unreadable")
            return nil
        }
        let arguments = BootedPartitionDetector.parseCommandLine(text)
        for key in BootedPartitionDetector.commandLineKeys {
            guard let value = arguments[key] else { continue }
            let evidence = "kernel command line \(key)=\(value)"
            if let found = try resolve(deviceSpec: value, evidence: evidence) { return found }
            attempts.append("\(evidence) names no partition found here")
        }
        if !BootedPartitionDetector.commandLineKeys.contains(where: { arguments[$0] != nil }) {
            attempts.append("the kernel command line has no usr=, mount.usr= or verity.usr=")
        }
        return nil
    }

    /// Splits a kernel command line into key/value pairs, honouring double quotes. A later
    /// occurrence of a key wins, as it does for the kernel and systemd.
    static func parseCommandLine(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var word = ""
        var quoted = false
        func finish() {
            if let equals = word.firstIndex(of: "=") {
                result[String(word[..<equals])] = String(word[word.index(after: equals)...])
            }
            word = ""
        }
        for character in text {
            if character == "\"" {
                quoted.toggle()
            } else if character.isWhitespace && !quoted {
                finish()
            } else {
                word.append(character)
            }
        }
        finish()
        return result
    }

    private func resolve(deviceSpec value: String, evidence: String) throws(SlotError) -> BootedPartition? {
        let byUUID = "/dev/disk/by-partuuid/", byLabel = "/dev/disk/by-partlabel/"
        if value.hasPrefix("PARTUUID=") || value.hasPrefix(byUUID) {
            let text = value.hasPrefix("PARTUUID=") ? String(value.dropFirst(9)) : String(value.dropFirst(byUUID.count))
            guard let guid = GUID(text.lowercased()) else {
                throw .bootedSlotUnknown(detail: "\(evidence) is not a valid partition UUID")
            }
            return try findPartition(evidence: evidence) { $0.uniqueGUID == guid }
        }
        if value.hasPrefix("PARTLABEL=") || value.hasPrefix(byLabel) {
            let label = value.hasPrefix("PARTLABEL=") ? String(value.dropFirst(10)) : String(value.dropFirst(byLabel.count))
            return try findPartition(evidence: evidence) { $0.label == label }
        }
        if value.hasPrefix("/"), let device = BootedPartitionDetector.deviceNumber(ofBlockDevice: value) {
            return try partition(behind: device, evidence: evidence)
        }
        return nil
    }

    /// Probes every whole disk the kernel knows and returns the one partition that matches.
    private func findPartition(evidence: String, matching: (Partition) -> Bool) throws(SlotError) -> BootedPartition? {
        var found: [BootedPartition] = []
        for name in wholeDiskNames() {
            guard let disk = try? Disk.probe(paths.dev + "/" + name) else { continue }
            for partition in disk.partitions where matching(partition) {
                found.append(BootedPartition(disk: disk.path, number: partition.number, evidence: evidence))
            }
        }
        guard found.count <= 1 else {
            let places = found.map { "\($0.disk) partition \($0.number)" }.joined(separator: ", ")
            throw .bootedSlotUnknown(detail: "\(evidence) matches several partitions (\(places))")
        }
        return found.first
    }

    /// The whole disks the kernel knows that hold both slots of `layout`, probed.
    func disksHolding(_ layout: SlotLayout) -> [SlotPair] {
        wholeDiskNames().compactMap { name in
            guard let disk = try? Disk.probe(paths.dev + "/" + name) else { return nil }
            return try? SlotPair(disk: disk, layout: layout)
        }
    }

    private func wholeDiskNames() -> [String] {
        let classDirectory = paths.sys + "/class/block"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: classDirectory)) ?? []
        return names.sorted().filter { name in
            let entry = classDirectory + "/" + name
            let size = (try? String(contentsOfFile: entry + "/size", encoding: .utf8))
                .flatMap { UInt64($0.trimmingWhitespace()) } ?? 0
            return !FileManager.default.fileExists(atPath: entry + "/partition") && size > 0
        }
    }

    // MARK: The /usr mount

    private func fromUsrMount(attempts: inout [String]) throws(SlotError) -> BootedPartition? {
        let mountinfo = paths.proc + "/self/mountinfo"
        guard let text = try? String(contentsOfFile: mountinfo, encoding: .utf8) else {
            attempts.append("\(mountinfo) is unreadable")
            return nil
        }
        guard let mount = MountInfo.covering(paths.usrMountPoint, in: text) else {
            attempts.append("nothing is mounted at or above \(paths.usrMountPoint)")
            return nil
        }
        let evidence = "\(mount.source) mounted at \(mount.mountPoint)"
        // btrfs and overlay report an anonymous device number, so prefer the mount source.
        let device = BootedPartitionDetector.deviceNumber(ofBlockDevice: mount.source) ?? mount.device
        guard device.major != 0 else {
            attempts.append("\(evidence) is not backed by a block device")
            return nil
        }
        return try partition(behind: device, evidence: evidence)
    }

    // MARK: sysfs

    /// Walks from a block device to the partition that ultimately holds it: a device-mapper
    /// device (dm-verity, dm-linear) has exactly one slave, which may itself be mapped.
    private func partition(behind device: DeviceNumber, evidence: String) throws(SlotError) -> BootedPartition {
        var directory = realPath(paths.sys + "/dev/block/\(device.major):\(device.minor)")
        for _ in 0..<8 {
            let slaves = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/slaves")) ?? []).sorted()
            if slaves.isEmpty { break }
            guard slaves.count == 1 else {
                throw .bootedSlotUnknown(detail: "\(evidence): \(lastComponent(directory)) is built from several devices (\(slaves.joined(separator: ", ")))")
            }
            directory = realPath(directory + "/slaves/" + slaves[0])
        }
        let partitionFile = directory + "/partition"
        guard let text = try? String(contentsOfFile: partitionFile, encoding: .utf8),
              let number = Int(text.trimmingWhitespace())
        else {
            throw .bootedSlotUnknown(detail: "\(evidence): \(lastComponent(directory)) is not a partition")
        }
        let parent = FilePath(directory).removingLastComponent().string
        return BootedPartition(disk: paths.dev + "/" + lastComponent(parent), number: number,
                               evidence: "\(evidence) → \(lastComponent(directory))")
    }

    private func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    private func lastComponent(_ path: String) -> String {
        FilePath(path).lastComponent?.string ?? path
    }

    static func deviceNumber(ofBlockDevice path: String) -> DeviceNumber? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFBLK else { return nil }
        return DeviceNumber(info.st_rdev)
    }
}

/// One line of `/proc/self/mountinfo`.
struct MountInfo: Equatable {
    var device: DeviceNumber
    var mountPoint: String
    var source: String

    /// The mount that holds `path`: the longest mount point that is `path` or one of its
    /// parents. Later lines win, since they are mounted over earlier ones.
    static func covering(_ path: String, in text: String) -> MountInfo? {
        var best: MountInfo?
        for line in text.split(separator: "\n") {
            guard let mount = parse(String(line)) else { continue }
            let point = mount.mountPoint
            let covers = point == "/" || path == point || path.hasPrefix(point + "/")
            if covers && point.count >= (best?.mountPoint.count ?? 0) {
                best = mount
            }
        }
        return best
    }

    static func parse(_ line: String) -> MountInfo? {
        let fields = line.split(separator: " ").map(String.init)
        guard fields.count >= 10, let separator = fields.firstIndex(of: "-"), separator + 2 < fields.count else { return nil }
        let numbers = fields[2].split(separator: ":")
        guard numbers.count == 2, let major = UInt32(numbers[0]), let minor = UInt32(numbers[1]) else { return nil }
        return MountInfo(device: .init(major: major, minor: minor),
                         mountPoint: unescape(fields[4]), source: unescape(fields[separator + 2]))
    }

    /// mountinfo writes space, tab, newline and backslash as three-digit octal escapes.
    private static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
