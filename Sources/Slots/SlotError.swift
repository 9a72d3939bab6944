import Platform
import SystemPackage

/// Everything that can go wrong while probing a disk, finding the slots or changing boot flags.
/// Each description names the disk (and partition) and says what to do next.
public enum SlotError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(disk: String, errno: Errno)
    case ioFailed(disk: String, operation: String, detail: String)
    case probeFailed(disk: String, detail: String)
    case notGPT(disk: String, found: String?)
    case bothTablesDamaged(disk: String, primary: String, backup: String)
    case cannotRelocateBackup(disk: String, detail: String)
    case cannotRebuildPrimary(disk: String, detail: String)
    /// A read or write whose range lies past the end of the disk or past what a 64-bit offset holds.
    case outsideDisk(disk: String, detail: String)
    /// The slots break the geometry rules (`SlotGeometry`): writing either could destroy something else.
    case unsafeSlotGeometry(disk: String, violations: [GeometryViolation])
    case tableChanged(disk: String, detail: String)
    case verificationFailed(disk: String, detail: String)
    case slotMissing(disk: String, label: String)
    case duplicateLabel(disk: String, label: String, partitions: [Int])
    case wrongSlotType(disk: String, partition: Int, label: String, type: GUID, expected: GUID)
    case slotTooSmall(disk: String, partition: Int, label: String, size: UInt64, minimum: UInt64)
    case unknownSlot(disk: String, selector: String)
    case notAUsrPartition(disk: String, partition: Int)
    case noBootableSlot(disk: String)
    case bootedSlotUnknown(detail: String)
    case bootedPartitionNotASlot(disk: String, partition: Int)
    /// Another writer held the disk's lock (`DiskLock`) for longer than the wait allowed.
    case diskBusy(disk: String, holder: FlockHolder?, waitedSeconds: Double)
    /// The writer stopped waiting for the disk's lock because its operation was cancelled.
    case diskLockWaitAbandoned(disk: String)
    /// Probed again under the disk's lock, a slot is no longer the partition a write was
    /// planned for (`planned` and `found` describe both), or would be the booted one.
    case slotChanged(disk: String, slot: SlotName, planned: String, found: String)
    /// The boot backend could not read or change the bootloader's own files or hook.
    case bootBackend(BootBackendError)

    public var description: String {
        switch self {
        case let .cannotOpen(disk, errno):
            let hint = errno == .permissionDenied || errno == .notPermitted
                ? "run as root or give this user access to the device"
                : "check the path"
            return "cannot open \(disk): \(errno); \(hint)"
        case let .ioFailed(disk, operation, detail):
            return "\(operation) on \(disk) failed: \(detail); check the device (dmesg) and try again"
        case let .probeFailed(disk, detail):
            return "libblkid could not probe \(disk): \(detail)"
        case let .notGPT(disk, found):
            let what = found.map { "a \($0) partition table" } ?? "no partition table"
            return "\(disk) has \(what), not GPT; Tandem needs a GPT disk with two USR slots, and writes nothing to this one"
        case let .bothTablesDamaged(disk, primary, backup):
            return "both GPT copies on \(disk) are damaged (primary: \(primary); backup: \(backup)); "
                + "nothing was written; restore the table from a backup (sgdisk --load-backup) before retrying"
        case let .cannotRelocateBackup(disk, detail):
            return "the backup GPT of \(disk) cannot be rebuilt at the end of the disk: \(detail); "
                + "the partition table was not changed; restore the disk to its original size"
        case let .cannotRebuildPrimary(disk, detail):
            return "the primary GPT of \(disk) cannot be rebuilt from the backup: \(detail); "
                + "the partition table was not changed; inspect it with 'sgdisk -v \(disk)' and repair it by hand"
        case let .outsideDisk(disk, detail):
            return "refusing to access \(detail) on \(disk): that lies outside the disk; the partition table is inconsistent"
        case let .unsafeSlotGeometry(disk, violations):
            return "the slots on \(disk) are not safe to write: "
                + violations.map(\.description).joined(separator: "; ")
                + "; Tandem writes nothing to this disk until the partition table is fixed (check it with 'sgdisk -p -v \(disk)')"
        case let .tableChanged(disk, detail):
            return "the partition table of \(disk) changed while it was being read (\(detail)); nothing was written; try again"
        case let .verificationFailed(disk, detail):
            return "after writing the GPT of \(disk), re-reading it showed \(detail); "
                + "inspect it with 'sgdisk -v \(disk)' before rebooting"
        case let .slotMissing(disk, label):
            return "\(disk) has no partition labelled \(label); create it, or set the slot labels in the configuration"
        case let .duplicateLabel(disk, label, partitions):
            let list = partitions.map(String.init).joined(separator: " and ")
            return "\(disk) has more than one partition labelled \(label) (partitions \(list)); "
                + "relabel all but one (sgdisk -c N:NAME)"
        case let .wrongSlotType(disk, partition, label, type, expected):
            return "partition \(partition) (\(label)) on \(disk) has type \(type), but slots must have type \(expected) "
                + "so that the bootloader honours their priority bits; fix it with 'sgdisk -t \(partition):\(expected) \(disk)'"
        case let .slotTooSmall(disk, partition, label, size, minimum):
            return "partition \(partition) (\(label)) on \(disk) holds \(size) bytes, less than the minimum slot size of "
                + "\(minimum) bytes; grow the partition or lower minimum-slot-size"
        case let .unknownSlot(disk, selector):
            return "\(disk) has no slot '\(selector)'; name a slot as A, B, its label or its partition number"
        case let .notAUsrPartition(disk, partition):
            return "partition \(partition) on \(disk) is not a USR slot; only the two slots carry boot flags"
        case let .noBootableSlot(disk):
            return "no slot on \(disk) is bootable (every slot has priority 0, or neither tries left nor the successful flag); "
                + "the bootloader will stop here; mark a slot with a good image bootable with "
                + "'updatectl disk set \(disk) SLOT --priority 1 --successful 1'"
        case let .bootedSlotUnknown(detail):
            return "cannot tell which slot is booted: \(detail); set booted-slot and disk in the configuration"
        case let .diskBusy(disk, holder, waited):
            let who = holder.map { "\($0) holds its lock" } ?? "another program holds its lock"
            return "the disk \(disk) is busy: \(who) (flock) and did not release it within \(waited.formatted) seconds; "
                + "nothing was written; try again once it has finished"
        case let .diskLockWaitAbandoned(disk):
            return "stopped waiting for the lock on \(disk): the operation was cancelled; nothing was written"
        case let .slotChanged(disk, slot, planned, found):
            return "slot \(slot.rawValue) of \(disk) changed since it was probed: it was \(planned), and is now \(found); "
                + "nothing was written; check the partition table (sgdisk -p \(disk)) and try again"
        case let .bootBackend(error):
            return error.description
        case let .bootedPartitionNotASlot(disk, partition):
            return "the system booted from partition \(partition) of \(disk), which is neither slot; "
                + "check the slot labels in the configuration"
        }
    }
}

private extension Double {
    /// Whole seconds without a decimal point, fractions as they are.
    var formatted: String {
        isFinite && magnitude < 1e15 && rounded() == self ? String(Int64(self)) : String(self)
    }
}
