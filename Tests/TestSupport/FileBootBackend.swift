import Foundation
import Slots

/// A boot backend that is not the GPT: the two slots' priority, tries and good flag in a text
/// file (`A 2 1 0` per line: name, priority, tries, successful), plus a record of the last
/// boot, as grub-env and systemd-boot keep theirs. `powerOn` plays its bootloader. Proves
/// that what runs over it (tandemd's lifecycle, updatectl's logic) does not depend on the GPT
/// bits, which it never touches.
public final class FileBootBackend: BootBackend, @unchecked Sendable {
    public let kind: BootBackendKind
    public let path: String
    private var lastBootPath: String { path + ".last-boot" }

    public init(path: String, kind: BootBackendKind = .custom) {
        self.path = path
        self.kind = kind
    }

    /// Starts the file with A good at priority 2 and B good at priority 1.
    public static func create(at path: String, kind: BootBackendKind = .custom) throws -> FileBootBackend {
        try "A 2 0 1\nB 1 0 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        return FileBootBackend(path: path, kind: kind)
    }

    public var factory: BootBackendFactory {
        let backend = self
        return { _, _ in backend }
    }

    public func read(_ pair: SlotPair) throws(SlotError) -> BootReading {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .bootBackend(.unreadableState(backend: kind, location: path, detail: "missing or unreadable"))
        }
        var attributes: [Int: BootAttributes] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let name = SlotName(rawValue: String(fields[0])), let priority = UInt8(fields[1]),
                  let tries = UInt8(fields[2]), priority <= 15, tries <= 15, fields[3] == "0" || fields[3] == "1" else {
                throw .bootBackend(.unreadableState(backend: kind, location: path, detail: "bad line \(line)"))
            }
            attributes[pair[name].partition.number] = BootAttributes(priority: priority, tries: tries, successful: fields[3] == "1")
        }
        return BootReading(table: BootTable(attributes: attributes, bootPartitions: pair.slots.map(\.partition.number)))
    }

    public func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem] {
        let text = pair.slots.map { slot in
            let flags = table[slot.partition.number]
            return "\(slot.name.rawValue) \(flags.priority) \(flags.tries) \(flags.successful ? 1 : 0)\n"
        }.joined()
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return []
    }

    public func lastBoot(_ pair: SlotPair) -> LastBoot? {
        guard let text = try? String(contentsOfFile: lastBootPath, encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count == 2, let slot = SlotName(rawValue: String(fields[0])) else { return nil }
        return LastBoot(slot: slot, consumedTry: fields[1] == "1")
    }

    public func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement? { nil }

    /// What its bootloader does at power-on: picks the next slot, uses up a try of a slot on
    /// trial, and records the boot. Nil when no slot is bootable.
    public func powerOn(_ pair: SlotPair) throws -> SlotName? {
        var table = try read(pair).table
        guard let (partition, consumed) = table.takeNextBoot(), let slot = pair.slot(partition: partition) else { return nil }
        _ = try write(table, to: pair)
        try "\(slot.name.rawValue) \(consumed ? 1 : 0)".write(toFile: lastBootPath, atomically: true, encoding: .utf8)
        return slot.name
    }

    /// The slot's flags as the file holds them.
    public func flags(_ name: SlotName, _ pair: SlotPair) throws -> BootAttributes {
        try read(pair).table[pair[name].partition.number]
    }
}
