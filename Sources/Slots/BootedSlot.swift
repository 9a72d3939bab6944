/// The slot the running system booted from, on the disk that holds both slots.
public struct BootedSlot: Sendable, Equatable {
    public var pair: SlotPair
    public var slot: Slot
    /// In words, how the booted slot was established.
    public var evidence: String

    /// Establishes the booted slot. Explicit configuration comes first (disk-image files and
    /// tests have nothing to detect); otherwise the kernel command line (a partition, or the
    /// slot itself with `tandem.slot=`; both must agree), then `/usr`. The disk
    /// holding the slots is the one holding the booted partition unless `disk` names it.
    public static func locate(
        disk configuredDisk: String? = nil, bootedSlot configuredSlot: String? = nil,
        layout: SlotLayout = .flatcar, paths: SystemPaths = .live
    ) throws(SlotError) -> BootedSlot {
        if let configuredDisk, let configuredSlot {
            let pair = try SlotPair(disk: try Disk.probe(configuredDisk), layout: layout)
            return BootedSlot(pair: pair, slot: try pair.resolve(configuredSlot), evidence: "configured")
        }
        let detector = BootedPartitionDetector(paths: paths)
        let evidence = try detector.detectEvidence()
        guard let detected = evidence.partition else {
            // Only the slot is named: the disk is the configured one, or the one disk that
            // holds both slots' labels.
            guard let named = evidence.slot else { throw .bootedSlotUnknown(detail: "nothing names the booted slot") }
            let pair: SlotPair
            if let configuredDisk {
                pair = try SlotPair(disk: try Disk.probe(configuredDisk), layout: layout)
            } else {
                let candidates = detector.disksHolding(layout)
                guard candidates.count == 1, let only = candidates.first else {
                    let found = candidates.isEmpty ? "no disk holds" : "several disks ("
                        + candidates.map(\.disk.path).joined(separator: ", ") + ") hold"
                    throw .bootedSlotUnknown(detail: "\(named.evidence) names the slot, but \(found) partitions labelled "
                        + "\(layout.labelA) and \(layout.labelB); set Disk= in [Slots]")
                }
                pair = only
            }
            return BootedSlot(pair: pair, slot: pair[named.name], evidence: named.evidence)
        }
        if let configuredDisk, !sameFile(configuredDisk, detected.disk) {
            throw .bootedSlotUnknown(
                detail: "the system booted from \(detected.disk) partition \(detected.number) (\(detected.evidence)), "
                    + "not from the configured disk \(configuredDisk)")
        }
        let pair = try SlotPair(disk: try Disk.probe(configuredDisk ?? detected.disk), layout: layout)
        guard let slot = pair.slot(partition: detected.number) else {
            throw .bootedPartitionNotASlot(disk: pair.disk.path, partition: detected.number)
        }
        if let named = evidence.slot, named.name != slot.name {
            // The bootloader and the kernel disagree: trusting either could overwrite the
            // system that is running.
            throw .bootedSlotUnknown(detail: "\(named.evidence) contradicts \(detected.evidence), which is slot \(slot.name.rawValue); "
                + "check the bootloader's configuration")
        }
        return BootedSlot(pair: pair, slot: slot, evidence: detected.evidence)
    }

    private static func sameFile(_ first: String, _ second: String) -> Bool {
        guard let one = BootedPartitionDetector.deviceNumber(ofBlockDevice: first),
              let other = BootedPartitionDetector.deviceNumber(ofBlockDevice: second)
        else { return first == second }
        return one == other
    }
}

extension BootedSlot {
    /// For a disk that is not running anything (an image being provisioned, a disk in another
    /// machine): the slot to protect is the one the bootloader would boot next.
    /// The next choice is the backend's (`bootBackend`), read from where its bootloader reads it.
    public static func offline(disk: String, layout: SlotLayout = .flatcar,
                               bootBackend: BootBackendFactory = gptprioBackendFactory) throws(SlotError) -> BootedSlot {
        let pair = try SlotPair(disk: try Disk.probe(disk), layout: layout)
        let backend = try bootBackend(pair, true)
        let table = try backend.read(pair).table
        guard let number = backend.choice(in: table)?.partition, let slot = pair.slot(partition: number) else {
            throw .bootedSlotUnknown(detail: "no slot on \(disk) is bootable, so none needs protecting; "
                + "name the slot to keep with --booted-slot")
        }
        return BootedSlot(pair: pair, slot: slot, evidence: "offline disk: slot \(slot.name.rawValue) is the bootloader's next choice")
    }
}
