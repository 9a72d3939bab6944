#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Platform
import Slots
import SystemPackage

/// systemd-boot (252, as Debian 12 ships it): one Boot Loader Specification Type #1 entry per
/// slot in `<ESP>/loader/entries/`, named `tandem-<a|b>[+LEFT-DONE].conf`, and loader.conf's
/// `default` for the order. docs/slots.md gives the facts from systemd-boot's source that this
/// mapping rests on.
///
/// - A slot with priority 0 has no entry file, so systemd-boot cannot boot it whatever else
///   is on the ESP (an entry with no tries left, `+0-D`, is still booted when it is the only
///   one).
/// - Good: no counter. On trial: `+LEFT-DONE`; each boot systemd-boot renames it to
///   `+(LEFT-1)-(DONE+1)`, and Tandem's `nextBoot(commit:)` renames it the same way.
///   Out of tries: `+0-DONE`, sorted last by systemd-boot, and still booted when no other
///   entry is left (gptprio.next would boot nothing then; GRUB and systemd-boot differ here).
/// - Order: loader.conf `default` names the first slot's entry while it is good or has tries
///   left (`SystemdBootLoaderConf`).
public final class SystemdBootBackend: BootBackend {
    public let kind = BootBackendKind.systemdBoot
    /// The mounted ESP.
    public let esp: String
    private let variables: LoaderVariables
    private let beforeStep: (ESPFileStep) throws -> Void
    /// The slots' partition numbers from the last read or write, for `choice(in:)`, which
    /// must tell A from B when systemd-boot falls back on an entry with no tries left.
    private var slotPartitions: [SlotName: Int] = [:]

    /// `efivars`: where efivarfs is mounted. `beforeStep`: called before every file step of a
    /// write; tests throw from it to cut the power there.
    public init(esp: String, efivars: String = LoaderVariables.defaultDirectory,
                beforeStep: @escaping (ESPFileStep) throws -> Void = { _ in }) {
        self.esp = esp
        variables = LoaderVariables(directory: efivars)
        self.beforeStep = beforeStep
    }

    public func read(_ pair: SlotPair) throws(SlotError) -> BootReading {
        remember(pair)
        let state = try SystemdBootESPState.read(esp: esp)
        return BootReading(table: state.table(for: pair), problems: state.problems)
    }

    public func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem] {
        remember(pair)
        let state = try SystemdBootESPState.read(esp: esp)
        let desired = Self.entries(for: table, pair: pair, current: state.entries)
        let files = ESPFiles(root: esp, backend: kind, beforeStep: beforeStep)
        let desiredFirst = Self.first(of: desired, table: table, pair: pair)
        let loaderConfChanges = desiredFirst != nil && (state.loaderConf == nil || state.loaderConf?.first != desiredFirst)

        try files.createDirectory(SystemdBootLayout.loaderDirectory)
        try files.createDirectory(SystemdBootLayout.entriesDirectory)
        // Entries leave first: a slot without an entry cannot boot whatever loader.conf says.
        for slot in SlotName.allCases {
            let gone = desired[slot] == nil || state.unloadable[slot] != nil
            if gone, let current = state.names[slot] ?? state.unloadable[slot] {
                try files.remove(SystemdBootLayout.entriesDirectory + "/" + current)
            }
        }
        // loader.conf before the entry it names is created: until then it names nothing and the
        // other slot boots as before; after it, the entries' changes below take effect at once.
        var loaderConfWritten = false
        if loaderConfChanges, let desiredFirst, state.entries[desiredFirst] == nil {
            try writeLoaderConf(first: desiredFirst, over: state.loaderConf, files: files)
            loaderConfWritten = true
        }
        for slot in SlotName.allCases {
            guard let wanted = desired[slot] else { continue }
            let target = SystemdBootLayout.entriesDirectory + "/" + wanted.fileName
            if let current = state.names[slot], state.unloadable[slot] == nil {
                if current != wanted.fileName {
                    try files.rename(SystemdBootLayout.entriesDirectory + "/" + current, to: target)
                }
            } else {
                try files.replace(target, with: try entryFile(for: pair[slot]))
            }
        }
        if loaderConfChanges, !loaderConfWritten, let desiredFirst {
            try writeLoaderConf(first: desiredFirst, over: state.loaderConf, files: files)
        }
        for leftover in state.leftovers {
            try files.remove(leftover)
        }
        return state.problems
    }

    /// systemd-boot 252's pick: gptprio.next's whenever a slot is good or has tries left (the
    /// same order, see `SystemdBootESPState.table(for:)`). When none is, systemd-boot still
    /// boots the first entry with no tries left, B before A (sorted by id, descending), without
    /// a try to use up: it reaches that state by counting down the last try of the only slot
    /// with an entry, and Tandem's commit of that boot leaves it the same way.
    public func choice(in table: BootTable) -> BootChoice? {
        if let number = table.nextBoot() {
            return BootChoice(partition: number, consumesTry: table[number].tries > 0)
        }
        for name in [SlotName.b, .a] {
            if let number = slotPartitions[name], table.bootPartitions.contains(number), table[number].priority > 0 {
                return BootChoice(partition: number, consumesTry: false)
            }
        }
        return nil
    }

    /// From `LoaderEntrySelected` (the entry's name before the boot's rename), or failing that
    /// `LoaderBootCountPath` (after it, so the boot was counted). Nil when neither names one of
    /// Tandem's entries.
    public func lastBoot(_ pair: SlotPair) -> LastBoot? {
        if let selected = variables.entrySelected {
            guard case let .entry(entry) = SystemdBootEntryName.parse(selected) else { return nil }
            return LastBoot(slot: entry.slot, consumedTry: (entry.counter?.left ?? 0) > 0)
        }
        if let path = variables.bootCountPath,
           let name = path.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last,
           case let .entry(entry) = SystemdBootEntryName.parse(String(name)) {
            return LastBoot(slot: entry.slot, consumedTry: true)
        }
        return nil
    }

    public func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement? {
        TandemArtifactLayout.placement(esp: esp, slot: slot.name, kinds: [.kernel, .initrd, .uki])
    }

    /// `updatectl disk init-boot --backend systemd-boot`: writes `tandem/kernel-options`, slot
    /// A's entry (good, first) and loader.conf (`timeout 0`, `editor no`, A's `default`), and
    /// removes any entry of slot B, so B cannot boot. The kernel, initrd or UKI of slot A in
    /// `tandem/a/` and systemd-boot itself (`EFI/BOOT/BOOTX64.EFI` or `bootctl install`) are
    /// the image builder's. Returns the paths written.
    public static func prepare(pair: SlotPair, esp: String, kernelOptions: String = "",
                               beforeStep: @escaping (ESPFileStep) throws -> Void = { _ in }) throws -> [String] {
        guard !kernelOptions.contains(where: SystemdBootConfigLines.isLineBreak) else {
            throw SlotError.bootBackend(.notConfigured(backend: .systemdBoot, detail: "the kernel options must be one line"))
        }
        let files = ESPFiles(root: esp, backend: .systemdBoot, beforeStep: beforeStep)
        for directory in [SystemdBootLayout.loaderDirectory, SystemdBootLayout.entriesDirectory, "tandem",
                          TandemArtifactLayout.directory(for: .a), TandemArtifactLayout.directory(for: .b)] {
            try files.createDirectory(directory)
        }
        var written: [String] = []
        try files.replace(SystemdBootLayout.kernelOptionsFile, with: kernelOptions + "\n")
        written.append(esp + "/" + SystemdBootLayout.kernelOptionsFile)

        let entryA = SystemdBootEntryName(slot: .a, counter: nil).fileName
        let entriesDirectory = esp + "/" + SystemdBootLayout.entriesDirectory
        let existing = (try? FilePath(entriesDirectory).directoryEntries()) ?? []
        let backend = SystemdBootBackend(esp: esp)
        try files.replace(SystemdBootLayout.entriesDirectory + "/" + entryA, with: try backend.entryFile(for: pair.a))
        written.append(entriesDirectory + "/" + entryA)
        for name in existing where name != entryA {
            if case .entry = SystemdBootEntryName.parse(name) {
                try files.remove(SystemdBootLayout.entriesDirectory + "/" + name)
            }
        }
        let loaderConf = SystemdBootLoaderConf(lines: SystemdBootLoaderConf.initialLines, first: nil)
        let loaderConfPath = SystemdBootLayout.loaderDirectory + "/" + SystemdBootLoaderConf.fileName
        try files.replace(loaderConfPath, with: loaderConf.rendered(first: .a))
        written.append(esp + "/" + loaderConfPath)
        return written
    }

    /// What each slot's entry name should be for `table`; nil: no entry. The counter's DONE
    /// carries on from the current name as systemd-boot's own rename would: a try used up
    /// adds one, the same tries keep it, new tries start it at 0.
    static func entries(for table: BootTable, pair: SlotPair,
                        current: [SlotName: SystemdBootEntryName]) -> [SlotName: SystemdBootEntryName] {
        // A slot out of tries keeps its `+0-DONE` entry even when no other slot can boot:
        // systemd-boot itself leaves it so when it counts down the last try at power-on, and
        // boots it as a last resort (`choice(in:)`). Removing it here would make the model
        // (`nextBoot(commit:)`) disagree with the real boot that follows.
        var entries: [SlotName: SystemdBootEntryName] = [:]
        for slot in pair.slots {
            let attributes = table[slot.partition.number]
            guard attributes.priority > 0 else { continue }
            guard !attributes.successful else {
                entries[slot.name] = SystemdBootEntryName(slot: slot.name, counter: nil)
                continue
            }
            let left = Int(attributes.tries)
            var done = 0
            if let counter = current[slot.name]?.counter, left <= counter.left {
                done = min(counter.done + (counter.left - left), SystemdBootCounter.maximumValue)
            }
            entries[slot.name] = SystemdBootEntryName(slot: slot.name, counter: SystemdBootCounter(left: left, done: done))
        }
        return entries
    }

    /// The slot loader.conf should put first: the one with the higher priority, A on a tie,
    /// among those with an entry. Nil when neither has one.
    private static func first(of entries: [SlotName: SystemdBootEntryName], table: BootTable, pair: SlotPair) -> SlotName? {
        var best: (slot: SlotName, priority: UInt8)?
        // A is looked at first and keeps a tie, as in gptprio.next.
        for slot in SlotName.allCases where entries[slot] != nil {
            let priority = table[pair[slot].partition.number].priority
            if best.map({ priority > $0.priority }) ?? true { best = (slot, priority) }
        }
        return best?.slot
    }

    private func writeLoaderConf(first: SlotName, over current: SystemdBootLoaderConf?, files: ESPFiles) throws {
        let base = current ?? SystemdBootLoaderConf(lines: SystemdBootLoaderConf.initialLines, first: nil)
        try files.replace(SystemdBootLayout.loaderDirectory + "/" + SystemdBootLoaderConf.fileName,
                          with: base.rendered(first: first))
    }

    /// A new entry for `slot`: its UKI when `tandem/<a|b>/uki.efi` exists, else its kernel and
    /// initrd, with the options `init-boot` stored.
    func entryFile(for slot: Slot) throws(SlotError) -> String {
        let optionsPath = esp + "/" + SystemdBootLayout.kernelOptionsFile
        var options = ""
        if access(optionsPath, F_OK) == 0 {
            let text = String(decoding: try SystemdBootESPState.contents(of: optionsPath), as: UTF8.self)
            let lines = text.split(whereSeparator: SystemdBootConfigLines.isLineBreak)
            guard lines.count <= 1 else {
                throw .bootBackend(.unreadableState(backend: kind, location: optionsPath,
                                                    detail: "the kernel options must be one line"))
            }
            options = lines.first.map { String($0).trimmingWhitespace() } ?? ""
        }
        let uki = esp + "/" + TandemArtifactLayout.directory(for: slot.name) + "/" + TandemArtifactLayout.ukiFileName
        return SystemdBootEntryFile.render(slot: slot, kernelOptions: options, unifiedKernelImage: access(uki, F_OK) == 0)
    }

    private func remember(_ pair: SlotPair) {
        slotPartitions = [.a: pair.a.partition.number, .b: pair.b.partition.number]
    }
}
