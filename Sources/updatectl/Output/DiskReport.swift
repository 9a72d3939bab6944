import FoundationEssentials
import Slots

/// What `updatectl disk show` prints. The JSON form is a stable interface
/// (schema `tandem.disk/1`, documented in docs/cli-json.md): fields are only ever added.
///
/// The slots' priority, tries and good state are the backend's view: the GPT bits for
/// gptprio (exactly as before backends existed), else what the backend read from the
/// bootloader's files, with the next boot as its bootloader picks it.
struct DiskReport: Encodable {
    struct DiskInfo: Encodable {
        var path: String
        var sectorSize: Int
        var sizeBytes: UInt64
        var guid: String?
    }

    struct PartitionInfo: Encodable {
        var number: Int
        var label: String
        var typeGUID: String
        var uniqueGUID: String
        var firstLBA: UInt64
        var sizeBytes: UInt64
        /// The full 64-bit attribute field as 16 hex digits, `0x`-prefixed.
        var attributes: String
        var slot: String?
    }

    struct SlotInfo: Encodable {
        var name: String
        var partition: Int
        var label: String
        var device: String?
        var priority: UInt8
        var tries: UInt8
        var successful: Bool
        var sizeBytes: UInt64
        var nextBoot: Bool
    }

    var schema = "tandem.disk/1"
    /// `BootBackendKind`'s name: where the slots' boot state below was read from.
    var backend: String
    /// Damage the backend found in its stored state (its next write repairs it).
    var backendProblems: [String]
    /// Why the backend could not read its state (no ESP, unreadable files); the slots then
    /// show no boot state.
    var backendError: String?
    var disk: DiskInfo
    var tableProblems: [String]
    var partitions: [PartitionInfo]
    var slots: [SlotInfo]?
    var slotError: String?
    var nextBoot: String?

    /// The backend's reading and its bootloader's pick, for the backends other than gptprio.
    struct BackendView {
        var kind: BootBackendKind
        var reading: Result<BootReading, SlotError>
        var choice: (BootTable) -> BootChoice?
    }

    /// `view`: nil for gptprio, whose state is the partitions' attribute bits.
    init(disk: Disk, problems: [GPTProblem], pair: Result<SlotPair, SlotError>, view: BackendView? = nil) {
        backend = (view?.kind ?? .gptprio).rawValue
        let reading = try? view?.reading.get()
        backendProblems = reading?.problems.map(\.description) ?? []
        if case let .failure(error)? = view?.reading { backendError = error.description }
        self.disk = DiskInfo(path: disk.path, sectorSize: disk.sectorSize, sizeBytes: disk.sizeInBytes,
                             guid: disk.diskGUID?.description)
        tableProblems = problems.map(\.description)
        let slotPair = try? pair.get()
        partitions = disk.partitions.map { partition in
            PartitionInfo(
                number: partition.number, label: partition.label,
                typeGUID: partition.typeGUID.description, uniqueGUID: partition.uniqueGUID.description,
                firstLBA: partition.firstLBA, sizeBytes: partition.sizeInBytes,
                attributes: DiskReport.hex(partition.attributes.rawValue),
                slot: slotPair?.slot(partition: partition.number)?.name.rawValue)
        }
        if let slotPair, view == nil || reading != nil {
            let table = reading?.table ?? slotPair.bootTable
            let next = view.map { $0.choice(table)?.partition } ?? table.nextBoot()
            nextBoot = next.flatMap { slotPair.slot(partition: $0)?.name.rawValue }
            slots = slotPair.slots.map { slot in
                let attributes = table[slot.partition.number]
                return SlotInfo(
                    name: slot.name.rawValue, partition: slot.partition.number, label: slot.partition.label,
                    device: disk.partitionDevicePath(number: slot.partition.number),
                    priority: attributes.priority, tries: attributes.tries, successful: attributes.successful,
                    sizeBytes: slot.partition.sizeInBytes, nextBoot: slot.partition.number == next)
            }
        }
        if case let .failure(error) = pair {
            slotError = error.description
        }
    }

    var text: String {
        var lines = ["Disk \(disk.path): \(formatBytes(disk.sizeBytes)), \(disk.sectorSize)-byte sectors, GPT \(disk.guid ?? "?")"]
        lines.append(tableProblems.isEmpty ? "GPT: both copies valid" : tableProblems.map { "GPT: \($0)" }.joined(separator: "\n"))
        if backend != BootBackendKind.gptprio.rawValue {
            // gptprio's output stays as it always was; the others say where the flags come from.
            lines.append("Boot state: \(BootBackendKind(rawValue: backend)?.displayName ?? backend)")
            lines += backendProblems.map { "Boot state: \($0)" }
            if let backendError { lines.append("Boot state: UNREADABLE: \(backendError)") }
        }
        lines.append("")
        var table = TextTable(header: ["SLOT", "PART", "LABEL", "PRIORITY", "TRIES", "SUCCESSFUL", "SIZE", "NEXT BOOT"])
        for partition in partitions {
            let slot = slots?.first { $0.partition == partition.number }
            table.rows.append([
                slot?.name ?? "-", "\(partition.number)", partition.label,
                slot.map { "\($0.priority)" } ?? "-", slot.map { "\($0.tries)" } ?? "-",
                slot.map { $0.successful ? "yes" : "no" } ?? "-",
                formatBytes(partition.sizeBytes), slot?.nextBoot == true ? "*" : "",
            ])
        }
        lines.append(table.render())
        if slots != nil {
            lines.append("")
            lines.append(nextBoot.map { "Next boot: slot \($0)" } ?? "Next boot: none, no slot is bootable")
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        encodeJSON(self)
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Pretty, key-sorted JSON, so that output diffs and tests stay stable.
func encodeJSON(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Encoding plain structs of strings and numbers cannot fail.
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}
