import Slots
import SystemPackage

/// Everything Tandem does with a partition table, on a disk image whose both GPT copies come
/// from the input: first `Disk.probe` (libblkid) on the image as a sparse file, as a real disk
/// is probed; then, in memory, list the partitions, find the slots, read the boot flags and the
/// damage, predict and take the next boot, flip the flags as an install does, and repair.
enum GPTTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        // In the order tandemd and updatectl meet a disk: probed by libblkid, then read and written.
        probe(input)
        return FuzzOutcome { try exercise(ImageDisk(input)) }
    }

    private static func exercise(_ image: ImageDisk) throws {
        let disk = try Disk.read(from: image)
        let pair = try SlotPair(disk: disk)
        _ = pair.bootTable.nextBoot()
        let control = try BootControl(pair: pair, storage: image)
        _ = try control.read()
        _ = try control.nextBoot(commit: false)
        // An install of B: invalidate it, then put it on trial; then the boot that tries it.
        try control.invalidate(.b)
        try control.setTrial(.b)
        _ = try control.nextBoot(commit: true)
        try control.markBad(.b)
        try control.markGood(.a)
        _ = try control.repair()
        // And the table as Tandem left it, through the reader once more.
        _ = try Disk.read(from: image)
    }

    /// libblkid's view of the input as it was, through a sparse file of the image's size
    /// (tmpfs holds a sparse file of any size up to its own limit).
    private static func probe(_ input: [UInt8]) {
        let image = ImageDisk(input)
        guard image.sizeInBytes <= 1 << 40, let path = try? ScratchDirectory.write([], to: "disk.img") else { return }
        guard (try? fill(path, from: image)) != nil else { return }
        _ = try? Disk.probe(path)
    }

    /// The image's stored regions at their offsets, in a file of the image's size.
    private static func fill(_ path: String, from image: ImageDisk) throws {
        let file = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.closeOnExec])
        try file.closeAfter {
            try file.resize(to: Int64(image.sizeInBytes))
            let headLength = min(image.sizeInBytes, UInt64(ImageDisk.headSectors(image.sectorSize) * image.sectorSize))
            _ = try file.writeAll(toAbsoluteOffset: 0, try image.read(at: 0, count: Int(headLength)))
            let tailLength = min(image.sizeInBytes - headLength, UInt64(ImageDisk.headSectors(image.sectorSize) * image.sectorSize))
            let tailOffset = image.sizeInBytes - tailLength
            _ = try file.writeAll(toAbsoluteOffset: Int64(tailOffset), try image.read(at: tailOffset, count: Int(tailLength)))
        }
    }
}
