import Platform
import Slots
import SystemPackage

/// Stock GRUB with the shipped fragment (`GrubFragment`): each slot's priority, tries and good
/// flag are variables in `<ESP>/tandem/grubenv`, which the fragment reads with `load_env` and
/// counts down with `save_env`. The grubenv is the only truth; the GPT bits are not kept in
/// step (docs/slots.md says why).
///
/// Crash safety: GRUB's `save_env` rewrites the block in place, through the sectors the file
/// already has, so Tandem also writes in place: only the bytes that change, then fsync. No
/// FAT metadata changes (a rename on vfat rewrites two directory entries and the FAT, and a
/// cut in between leaves two names on one cluster). Tandem's variables come first in the
/// block, within its first 173 bytes, so in the old block and the new alike they all lie in
/// the first 512-byte sector: however a power cut tears the write, the sector holding them is
/// the old one or the new one. A block that is not in this layout (made by grub-editenv, or
/// edited by hand) or not 1024 bytes is instead replaced whole (write-temp, fsync, rename,
/// fsync the directory), once; every later write is in place.
public final class GrubEnvironmentBackend: BootBackend {
    public let kind = BootBackendKind.grubEnv
    /// Where the ESP (or `/boot`) holding `tandem/` is mounted.
    public let esp: String
    public let storage: GrubEnvironmentStorage
    /// Slot A's partition: the fragment gives A a tie whatever the partition numbers.
    private let partitionOfA: Int

    public init(pair: SlotPair, esp: String, storage: GrubEnvironmentStorage? = nil) {
        self.esp = esp
        self.storage = storage ?? GrubEnvironmentFile(path: Self.environmentPath(esp: esp))
        partitionOfA = pair.a.partition.number
    }

    public static func environmentPath(esp: String) -> String { esp + GrubFragment.environmentPath }
    public static func fragmentPath(esp: String) -> String { esp + GrubFragment.path }

    public func read(_ pair: SlotPair) throws(SlotError) -> BootReading {
        let loaded = try load()
        let table = Self.table(loaded.decoded.attributes, pair: pair)
        let problems = loaded.problems
        if !problems.isEmpty, choice(in: table) == nil {
            throw .bootBackend(.unreadableState(
                backend: kind, location: storage.location,
                detail: problems.map(\.description).joined(separator: "; ")
                    + "; neither slot would boot, so Tandem writes nothing: set the variables with grub-editenv, "
                    + "or run 'updatectl disk init-boot --backend grub-env'"))
        }
        return BootReading(table: table, problems: problems)
    }

    public func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem] {
        let loaded = try load()
        let wanted = [SlotName.a: table[pair.a.partition.number], .b: table[pair.b.partition.number]]
        let final = try block(GrubBootVariables.encode(wanted, into: loaded.environment))
        // In Tandem's layout, with the values GRUB sees now: what the block must already be
        // for a write in place to change nothing but Tandem's lines at its start.
        let current = GrubBootVariables.encode(loaded.decoded.attributes, into: loaded.environment).serialized()
        if current == loaded.bytes {
            try overwriteChanges(from: loaded.bytes, to: final)
        } else {
            try io("replace") { () throws(Errno) in try storage.replace(with: final) }
        }
        return loaded.problems
    }

    /// `gptprio.next`'s choice as the fragment makes it: B only with a priority strictly above
    /// a bootable A's, whatever the partition numbers.
    public func choice(in table: BootTable) -> BootChoice? {
        let ordered = table.bootPartitions.sorted { ($0 == partitionOfA ? 0 : 1, $0) < ($1 == partitionOfA ? 0 : 1, $1) }
        var best: Int?
        for number in ordered where table[number].isBootable {
            if best.map({ table[number].priority > table[$0].priority }) ?? true { best = number }
        }
        return best.map { BootChoice(partition: $0, consumesTry: table[$0].tries > 0) }
    }

    public func lastBoot(_ pair: SlotPair) -> LastBoot? {
        try? load().decoded.lastBoot
    }

    public func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement? {
        BootArtifactPlacement(directory: esp + "/tandem/" + slot.name.rawValue.lowercased(),
                              fileNames: [.kernel: "vmlinuz", .initrd: "initrd.img"])
    }

    // MARK: - The block

    private struct Loaded {
        var bytes: [UInt8]
        var environment: GrubEnvironment
        var decoded: GrubBootVariables.Decoded
        var problems: [BootStateProblem]
    }

    private func load() throws(SlotError) -> Loaded {
        guard let bytes = try io("read", { () throws(Errno) in try storage.read() }) else {
            throw .bootBackend(.notConfigured(
                backend: kind, detail: "\(storage.location) does not exist; "
                    + "run 'updatectl disk init-boot --backend grub-env' to install the GRUB fragment and its environment"))
        }
        let parsed: ParsedGrubEnvironment
        do {
            parsed = try GrubEnvironment.parse(bytes)
        } catch {
            throw .bootBackend(.unreadableState(backend: kind, location: storage.location, detail: error.description))
        }
        let decoded = GrubBootVariables.decode(parsed.environment)
        let problems = (parsed.defects.map(\.description) + decoded.problems).map {
            BootStateProblem.grubEnvironment(path: storage.location, detail: $0)
        }
        return Loaded(bytes: bytes, environment: parsed.environment, decoded: decoded, problems: problems)
    }

    private func block(_ environment: GrubEnvironment) throws(SlotError) -> [UInt8] {
        guard let bytes = environment.serialized() else {
            throw .bootBackend(.unreadableState(
                backend: kind, location: storage.location,
                detail: "Tandem's variables do not fit in the \(GrubEnvironment.blockSize)-byte block beside the others; "
                    + "remove some with 'grub-editenv \(storage.location) unset NAME'"))
        }
        return bytes
    }

    /// Writes the bytes from the first that differs to the last that differs.
    private func overwriteChanges(from old: [UInt8], to new: [UInt8]) throws(SlotError) {
        guard old.count == new.count,
              let first = old.indices.first(where: { old[$0] != new[$0] }),
              let last = old.indices.last(where: { old[$0] != new[$0] })
        else { return }
        try io("write") { () throws(Errno) in try storage.overwrite(new[first...last], at: first) }
    }

    private func io<T>(_ operation: String, _ body: () throws(Errno) -> T) throws(SlotError) -> T {
        do {
            return try body()
        } catch {
            throw .bootBackend(.ioFailed(backend: kind, path: storage.location, operation: operation, errno: error))
        }
    }

    static func table(_ attributes: [SlotName: BootAttributes], pair: SlotPair) -> BootTable {
        BootTable(attributes: [pair.a.partition.number: attributes[.a] ?? BootAttributes(rawValue: 0),
                               pair.b.partition.number: attributes[.b] ?? BootAttributes(rawValue: 0)],
                  bootPartitions: [pair.a.partition.number, pair.b.partition.number])
    }
}
