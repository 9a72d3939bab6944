#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Platform
import Slots
import SystemPackage

/// The slots' boot state as systemd-boot 252 will see it on the ESP at the next power-on:
/// each slot's entry file, and which slot loader.conf's `default` puts first.
struct SystemdBootESPState: Equatable {
    /// The entries systemd-boot will load, by slot.
    var entries: [SlotName: SystemdBootEntryName] = [:]
    /// The names of those entries as the directory lists them (FAT keeps the case it was
    /// given, and a rename or unlink must use it on a case-sensitive file system too).
    var names: [SlotName: String] = [:]
    /// Entry files systemd-boot skips (no `linux`/`efi` line, or its file is missing), so the
    /// slot cannot boot; a write replaces them.
    var unloadable: [SlotName: String] = [:]
    /// Nil when the ESP has no loader.conf.
    var loaderConf: SystemdBootLoaderConf?
    /// Temporary files a crash left behind, relative to the ESP's root; a write removes them.
    var leftovers: [String] = []
    var problems: [BootStateProblem] = []

    /// Files larger than this in `loader/` are not Tandem's and are refused unread.
    static let fileLimit = 64 * 1024

    /// The slot systemd-boot boots when both slots' entries have tries left: the `default`
    /// slot, or without one, B: systemd-boot then sorts entries without a sort key by id,
    /// descending (config_entry_compare), and `tandem-b…` sorts above `tandem-a…`.
    var first: SlotName { loaderConf?.first ?? .b }

    static func read(esp: String) throws(SlotError) -> SystemdBootESPState {
        var state = SystemdBootESPState()
        let entriesDirectory = esp + "/" + SystemdBootLayout.entriesDirectory
        let names: [String]
        do {
            names = try FilePath(entriesDirectory).directoryEntries()
        } catch .noSuchFileOrDirectory {
            names = []
            state.problems.append(.loaderEntries(directory: entriesDirectory, detail: "the directory is missing"))
        } catch {
            throw .bootBackend(.ioFailed(backend: .systemdBoot, path: entriesDirectory, operation: "list", errno: error))
        }
        for name in names {
            try state.add(name, in: entriesDirectory, esp: esp)
        }
        try state.readLoaderConf(esp: esp)
        try checkNoUnifiedEntries(esp: esp)
        return state
    }

    private mutating func add(_ name: String, in directory: String, esp: String) throws(SlotError) {
        switch SystemdBootEntryName.parse(name) {
        case .ignored:
            if Self.isLeftover(name) {
                leftovers.append(SystemdBootLayout.entriesDirectory + "/" + name)
                problems.append(.loaderEntries(directory: directory, detail: "\(name) is left over from an interrupted write"))
            }
        case let .foreign(reason):
            throw .bootBackend(.unreadableState(
                backend: .systemdBoot, location: directory,
                detail: "\(reason); systemd-boot would load it too, so its choice cannot be predicted: remove it"))
        case let .entry(entry):
            if let other = names[entry.slot] ?? unloadable[entry.slot] {
                throw .bootBackend(.unreadableState(
                    backend: .systemdBoot, location: directory,
                    detail: "slot \(entry.slot.rawValue) has two entries, \(other) and \(name): remove one"))
            }
            let path = directory + "/" + name
            let contents = String(decoding: try Self.contents(of: path), as: UTF8.self)
            if let loader = SystemdBootEntryFile.loaderPath(in: contents), access(esp + "/" + loader, F_OK) == 0 {
                entries[entry.slot] = entry
                names[entry.slot] = name
            } else {
                unloadable[entry.slot] = name
                problems.append(.loaderEntries(
                    directory: directory,
                    detail: "systemd-boot skips \(name): it names no kernel or UKI that exists on the ESP"))
            }
        }
    }

    /// ReplacementFile's temporary names: `<destination>.tmp-XXXXXX`.
    private static func isLeftover(_ name: String) -> Bool {
        name.hasPrefix("tandem-") && name.contains(".conf.tmp-")
    }

    private mutating func readLoaderConf(esp: String) throws(SlotError) {
        let directory = esp + "/" + SystemdBootLayout.loaderDirectory
        let path = directory + "/" + SystemdBootLoaderConf.fileName
        if let names = try? FilePath(directory).directoryEntries() {
            for name in names where name.hasPrefix(SystemdBootLoaderConf.fileName + ".tmp-") {
                leftovers.append(SystemdBootLayout.loaderDirectory + "/" + name)
                problems.append(.loaderEntries(directory: directory, detail: "\(name) is left over from an interrupted write"))
            }
        }
        guard access(path, F_OK) == 0 else {
            problems.append(.loaderEntries(directory: directory,
                                           detail: "loader.conf is missing, so systemd-boot puts slot B first"))
            return
        }
        let text = String(decoding: try Self.contents(of: path), as: UTF8.self)
        do {
            loaderConf = try SystemdBootLoaderConf.parse(text)
        } catch {
            let patterns = SlotName.allCases.map { SystemdBootLoaderConf.pattern(for: $0) }.joined(separator: " or ")
            throw .bootBackend(.unreadableState(
                backend: .systemdBoot, location: path,
                detail: "default \(error.value) is not Tandem's (\(patterns)), so systemd-boot's choice cannot be predicted"))
        }
    }

    /// systemd-boot also loads Type #2 entries (UKIs in `EFI/Linux`) and sorts them with
    /// Tandem's; one there could be booted instead of either slot.
    private static func checkNoUnifiedEntries(esp: String) throws(SlotError) {
        let directory = esp + "/EFI/Linux"
        guard let names = try? FilePath(directory).directoryEntries() else { return }
        if let unified = names.first(where: { $0.lowercased().hasSuffix(".efi") && !$0.hasPrefix(".") }) {
            throw .bootBackend(.unreadableState(
                backend: .systemdBoot, location: directory,
                detail: "\(unified) is a boot entry too, and systemd-boot could boot it instead of either slot: remove it"))
        }
    }

    static func contents(of path: String) throws(SlotError) -> [UInt8] {
        do {
            return try FileDescriptor.contents(of: FilePath(path), limit: fileLimit)
        } catch {
            throw .bootBackend(.ioFailed(backend: .systemdBoot, path: path, operation: "read", errno: error))
        }
    }

    /// The neutral model of this state. systemd-boot knows an order, not numbers: a slot with
    /// an entry gets priority 2 when it comes first and the other slot has an entry too, else 1,
    /// which is what cgpt's prioritize gives two slots; a slot without one gets priority 0.
    /// No counter: good. A counter: tries = LEFT, not good.
    func table(for pair: SlotPair) -> BootTable {
        var attributes: [Int: BootAttributes] = [:]
        for slot in pair.slots {
            let number = slot.partition.number
            guard let entry = entries[slot.name] else {
                attributes[number] = BootAttributes(priority: 0, tries: 0, successful: false)
                continue
            }
            let priority: UInt8 = entries[slot.name.other] != nil && first == slot.name ? 2 : 1
            attributes[number] = BootAttributes(priority: priority, tries: UInt8(clamping: entry.counter?.left ?? 0),
                                                successful: entry.counter == nil)
        }
        return BootTable(attributes: attributes, bootPartitions: pair.slots.map(\.partition.number))
    }
}
