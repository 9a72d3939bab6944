import Foundation

/// A Flatcar-like GPT disk built by sgdisk for a test, as an image file or a loop device,
/// removed again by `remove()`.
///
/// Layout (scaled down from Flatcar's disk_layout.json): 1 EFI-SYSTEM, 2 BIOS-BOOT,
/// 3 USR-A, 4 USR-B, 6 OEM, 9 ROOT, with free space left at the end of the disk.
public final class TestDisk {
    public static let usrType = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6"
    public static let usrAUUID = "7130c94a-213a-4e5a-8e26-6cce9662f132"
    public static let usrBUUID = "e03dd35c-7c2d-4a47-b3fe-27f15780a57c"
    public static let slotMiB = 16

    public let directory: URL
    /// The image file backing the disk.
    public let imagePath: String
    /// The loop device, when attached.
    public private(set) var loopDevice: String?
    public let sectorSize: Int

    /// What a test works on: the loop device when attached, else the image file.
    public var path: String { loopDevice ?? imagePath }

    public enum Backing { case file, loopDevice, directIOLoopDevice }

    /// - Parameters:
    ///   - sizeMiB: total disk size.
    ///   - extraSgdisk: extra sgdisk arguments applied after the standard layout.
    public init(backing: Backing = .file, sectorSize: Int = 512, sizeMiB: Int = 64,
                layout: [String]? = nil, extraSgdisk: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tandem-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        imagePath = directory.appendingPathComponent("disk.img").path
        self.sectorSize = sectorSize
        try Shell.run(["truncate", "-s", "\(sizeMiB)M", imagePath])
        if backing != .file || sectorSize != 512 {
            var attach = ["losetup", "--find", "--show"]
            if sectorSize != 512 { attach += ["--sector-size", "\(sectorSize)"] }
            if backing == .directIOLoopDevice { attach += ["--direct-io=on"] }
            loopDevice = try Shell.run(attach + [imagePath]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // sgdisk takes the logical sector size from the device, so 4K disks are built on the loop device.
        try Shell.run(["sgdisk"] + (layout ?? TestDisk.flatcarLayout) + extraSgdisk + [path])
        try fillPartitionsWithMarkers()
    }

    public static let flatcarLayout: [String] = [
        "-o",
        "-n", "1:0:+4M", "-t", "1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "-c", "1:EFI-SYSTEM",
        "-n", "2:0:+1M", "-t", "2:21686148-6449-6e6f-744e-656564454649", "-c", "2:BIOS-BOOT",
        "-n", "3:0:+\(slotMiB)M", "-t", "3:\(usrType)", "-c", "3:USR-A", "-u", "3:\(usrAUUID)",
        // Built like a Flatcar image: A is good with priority 1; B is empty.
        "-A", "3:set:48", "-A", "3:set:56",
        "-n", "4:0:+\(slotMiB)M", "-t", "4:\(usrType)", "-c", "4:USR-B", "-u", "4:\(usrBUUID)",
        "-n", "6:0:+4M", "-t", "6:0fc63daf-8483-4772-8e79-3d69d8477de4", "-c", "6:OEM",
        // Also set a bit outside the boot fields (legacy BIOS bootable) to prove it is preserved.
        "-A", "6:set:2",
        "-n", "9:0:+8M", "-t", "9:3884dd41-8582-4404-b9a8-e9b84f2df50e", "-c", "9:ROOT",
    ]

    /// The same partitions at the smallest sizes Tandem accepts (slots of 1 MiB, the minimum
    /// slot size), aligned to 8 sectors instead of 1 MiB: it fits a 3 MiB disk, for tests that
    /// build thousands of images.
    public static let compactFlatcarLayout: [String] = [
        "-o", "-a", "8",
        "-n", "1:0:+256K", "-t", "1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "-c", "1:EFI-SYSTEM",
        "-n", "2:0:+64K", "-t", "2:21686148-6449-6e6f-744e-656564454649", "-c", "2:BIOS-BOOT",
        "-n", "3:0:+1M", "-t", "3:\(usrType)", "-c", "3:USR-A", "-u", "3:\(usrAUUID)", "-A", "3:set:48", "-A", "3:set:56",
        "-n", "4:0:+1M", "-t", "4:\(usrType)", "-c", "4:USR-B", "-u", "4:\(usrBUUID)",
        "-n", "6:0:+128K", "-t", "6:0fc63daf-8483-4772-8e79-3d69d8477de4", "-c", "6:OEM", "-A", "6:set:2",
        "-n", "9:0:+256K", "-t", "9:3884dd41-8582-4404-b9a8-e9b84f2df50e", "-c", "9:ROOT",
    ]

    /// Writes a distinct pattern at the start and end of every partition, so that tests can
    /// prove a table operation left partition contents alone.
    private func fillPartitionsWithMarkers() throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        for partition in try sfdiskPartitions() {
            let marker = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ partition.number) })
            let start = partition.start * UInt64(sectorSize)
            let end = (partition.start + partition.size) * UInt64(sectorSize) - 4096
            for offset in [start, end] {
                try handle.seek(toOffset: offset)
                try handle.write(contentsOf: marker)
            }
        }
        try handle.synchronize()
    }

    /// A device node for partition `number` of the loop device, made in the test's directory:
    /// there is no udev here, so the kernel is asked for the partitions and the node is made
    /// from the numbers sysfs gives.
    public func partitionNode(_ number: Int) throws -> String {
        guard let loopDevice else { throw Integration.Missing(description: "partition nodes need a loop device") }
        let name = URL(fileURLWithPath: loopDevice).lastPathComponent
        let sysfs = "/sys/class/block/\(name)p\(number)/dev"
        if !FileManager.default.fileExists(atPath: sysfs) {
            try Shell.run(["partx", "--add", loopDevice])
        }
        let numbers = try String(contentsOfFile: sysfs, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        let node = directory.appendingPathComponent("part\(number)").path
        if !FileManager.default.fileExists(atPath: node) {
            try Shell.run(["mknod", node, "b", String(numbers[0]), String(numbers[1])])
        }
        return node
    }

    /// Formats partition `number` as ext4 and mounts it read-only at a new directory, until `body` returns.
    public func withMountedPartition<T>(_ number: Int, _ body: (_ mountPoint: String) throws -> T) throws -> T {
        let node = try partitionNode(number)
        try Shell.run(["mkfs.ext4", "-q", "-F", node])
        let mountPoint = directory.appendingPathComponent("mnt\(number)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Shell.run(["mount", "-o", "ro", node, mountPoint])
        defer { _ = try? Shell.capture(["umount", mountPoint]) }
        return try body(mountPoint)
    }

    public func remove() {
        if let loopDevice {
            _ = try? Shell.capture(["partx", "--delete", loopDevice])
            _ = try? Shell.capture(["losetup", "-d", loopDevice])
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Oracles

    public struct SfdiskPartition: Sendable {
        public var number: Int
        public var start: UInt64
        public var size: UInt64
        public var name: String
        public var type: String
        public var uuid: String
        /// Attribute bits as sfdisk lists them (`GUID:48,56` → [48, 56], `LegacyBIOSBootable` → [2]).
        public var attributeBits: Set<Int>
    }

    /// The partition table as `sfdisk --json` reads it.
    public func sfdiskPartitions() throws -> [SfdiskPartition] {
        let json = try Shell.run(["sfdisk", "--json", path])
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let table = root?["partitiontable"] as? [String: Any]
        let partitions = table?["partitions"] as? [[String: Any]] ?? []
        return partitions.map { entry in
            let node = entry["node"] as? String ?? ""
            let number = Int(node.reversed().prefix { $0.isNumber }.reversed().map(String.init).joined()) ?? 0
            return SfdiskPartition(
                number: number,
                start: (entry["start"] as? NSNumber)?.uint64Value ?? 0,
                size: (entry["size"] as? NSNumber)?.uint64Value ?? 0,
                name: entry["name"] as? String ?? "",
                type: (entry["type"] as? String ?? "").lowercased(),
                uuid: (entry["uuid"] as? String ?? "").lowercased(),
                attributeBits: TestDisk.parseSfdiskAttributes(entry["attrs"] as? String ?? ""))
        }
    }

    static func parseSfdiskAttributes(_ text: String) -> Set<Int> {
        var bits = Set<Int>()
        for word in text.split(separator: " ") {
            switch word {
            case "RequiredPartition": bits.insert(0)
            case "NoBlockIOProtocol": bits.insert(1)
            case "LegacyBIOSBootable": bits.insert(2)
            default:
                if word.hasPrefix("GUID:") {
                    for number in word.dropFirst(5).split(separator: ",") {
                        if let bit = Int(number) { bits.insert(bit) }
                    }
                }
            }
        }
        return bits
    }

    /// The 64-bit attribute field of partition `number` as `sgdisk -i` prints it.
    public func sgdiskAttributes(_ number: Int) throws -> UInt64 {
        let info = try Shell.run(["sgdisk", "-i", "\(number)", path])
        guard let line = info.split(separator: "\n").first(where: { $0.hasPrefix("Attribute flags:") }),
              let value = UInt64(line.split(separator: " ").last ?? "", radix: 16)
        else { throw Shell.Failure(command: ["sgdisk", "-i", "\(number)"], output: .init(status: 0, stdout: info, stderr: "")) }
        return value
    }

    /// The attribute bits of partition `number` as `sgdisk -A N:show` lists them.
    public func sgdiskShownBits(_ number: Int) throws -> Set<Int> {
        let shown = try Shell.run(["sgdisk", "-A", "\(number):show", path])
        var bits = Set<Int>()
        for line in shown.split(separator: "\n") {
            let fields = line.split(separator: ":")
            if fields.count >= 2, Int(fields[0].trimmingCharacters(in: .whitespaces)) == number,
               let bit = Int(fields[1]) {
                bits.insert(bit)
            }
        }
        return bits
    }

    /// Whether `sgdisk -v` finds the table sound: both headers and both CRCs valid.
    public func sgdiskVerifies() throws -> (clean: Bool, report: String) {
        let output = try Shell.capture(["sgdisk", "-v", path])
        let report = output.stdout + output.stderr
        return (output.status == 0 && report.contains("No problems found"), report)
    }

    /// A copy of the disk's current bytes, to compare against after an operation.
    public func snapshot() throws -> String {
        let copy = directory.appendingPathComponent("snapshot-\(UUID().uuidString.prefix(6)).img").path
        try Shell.run(["dd", "if=\(path)", "of=\(copy)", "bs=1M", "status=none"])
        return copy
    }

    /// Whether the bytes of every partition equal those in `snapshot`.
    public func partitionContentsEqual(_ snapshot: String) throws -> Bool {
        for partition in try sfdiskPartitions() {
            let offset = partition.start * UInt64(sectorSize)
            let length = partition.size * UInt64(sectorSize)
            let result = try Shell.capture(["cmp", "-i", "\(offset):\(offset)", "-n", "\(length)", snapshot, path])
            if result.status != 0 { return false }
        }
        return true
    }

    /// Whether the disk is byte for byte the same as `snapshot`.
    public func identical(to snapshot: String) throws -> Bool {
        try Shell.capture(["cmp", snapshot, path]).status == 0
    }

    /// Overwrites `count` bytes at `offset` with a pattern that matches no valid structure.
    public func corrupt(at offset: UInt64, count: Int = 16) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: count))
        try handle.synchronize()
    }

    public var sizeInBytes: UInt64 {
        get throws {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            return try handle.seekToEnd()
        }
    }
}
