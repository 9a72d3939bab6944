import ArgumentParser
import Slots

/// The disk to work on and how its slots are recognised.
struct DiskOptions: ParsableArguments {
    @Argument(help: "The disk, loop device or disk-image file.")
    var disk: String

    @Option(name: .customLong("label-a"), help: "Partition label of slot A.")
    var labelA = SlotLayout.flatcar.labelA

    @Option(name: .customLong("label-b"), help: "Partition label of slot B.")
    var labelB = SlotLayout.flatcar.labelB

    var layout: SlotLayout {
        SlotLayout(labelA: labelA, labelB: labelB)
    }

    func probe() throws -> Disk {
        try Disk.probe(disk)
    }

    func slotPair() throws -> SlotPair {
        try SlotPair(disk: try probe(), layout: layout)
    }
}
