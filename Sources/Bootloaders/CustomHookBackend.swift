import Slots

/// Boot state kept by an executable the administrator provides (`Hook=`): U-Boot's
/// environment through fw_setenv, barebox's state, anything else. The hook stores each slot's
/// priority, tries and good flag where its bootloader reads them; the bootloader's script makes
/// `gptprio.next`'s choice. The interface (operations, environment, exit statuses, answers) is
/// documented in docs/slots.md; `contrib/hooks/uboot-fw-env` is an example.
public final class CustomHookBackend: BootBackend {
    public let kind = BootBackendKind.custom
    public let hook: CustomHook
    /// Where the bootloader loads each slot's kernel from, when an ESP or boot partition is
    /// configured: `<ESP>/tandem/<a|b>/`.
    private let esp: String?

    public init(hook: CustomHook, esp: String? = nil) {
        self.hook = hook
        self.esp = esp
    }

    public func read(_ pair: SlotPair) throws(SlotError) -> BootReading {
        var attributes: [Int: BootAttributes] = [:]
        for slot in pair.slots {
            attributes[slot.partition.number] = try state(of: slot.name, pair: pair)
        }
        return BootReading(table: BootTable(attributes: attributes, bootPartitions: pair.slots.map(\.partition.number)))
    }

    /// One set-state per slot that changes, each read back. With two changes, the order keeps
    /// a power cut (or a failing hook) between them harmless: see `writeOrder`.
    public func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem] {
        let current = try read(pair).table
        let changed = pair.slots.filter { CustomHookState(table[$0.partition.number]) != CustomHookState(current[$0.partition.number]) }
        for slot in Self.writeOrder(changed, from: current, to: table) {
            let wanted = CustomHookState(table[slot.partition.number])
            let operation = CustomHookOperation.setState(slot.name, wanted.attributes)
            _ = try hook.runRequired(operation, for: pair, esp: esp)
            let stored = try state(of: slot.name, pair: pair)
            guard CustomHookState(stored) == wanted else {
                throw hook.failure(operation, "it succeeded, but get-state now answers "
                    + CustomHookState(stored).fields.joined(separator: " "))
            }
        }
        return []
    }

    public func lastBoot(_ pair: SlotPair) -> LastBoot? {
        // Optional: a hook without a record exits 2; a failing one only costs the record.
        guard let answer = try? hook.run(.getBooted, for: pair, esp: esp) else { return nil }
        return try? CustomHookBootedAnswer.parse(answer)
    }

    public func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement? {
        guard let esp else { return nil }
        return BootArtifactPlacement(directory: "\(esp)/tandem/\(slot.name.hookArgument)",
                                     fileNames: [.kernel: "vmlinuz", .initrd: "initrd.img", .uki: "uki.efi"])
    }

    private func state(of slot: SlotName, pair: SlotPair) throws(SlotError) -> BootAttributes {
        let operation = CustomHookOperation.getState(slot)
        let answer = try hook.runRequired(operation, for: pair, esp: esp)
        do {
            return try CustomHookState(answer: answer).attributes
        } catch {
            throw hook.failure(operation, "answered \(HookText.quoted(answer, limit: 120)), not "
                + "\"\(CustomHookState.format)\": \(error.reason)")
        }
    }

    /// The order of the set-state calls. Each call is atomic (the hook's promise), so between
    /// two calls the bootloader sees one slot new and the other old. The order chosen makes
    /// that state, in this preference: boot what the old state booted (the change then takes
    /// effect all at once, with the last call: a trial starts only when the new slot is
    /// raised, after the other was lowered); else boot something; and, all else equal, write
    /// the slot the new state boots last.
    public static func writeOrder(_ slots: [Slot], from current: BootTable, to target: BootTable) -> [Slot] {
        guard slots.count == 2 else { return slots }
        let targetChoice = target.nextBoot()
        let orders = [slots, slots.reversed()].sorted { first, second in
            (score(first, from: current, to: target), first.last?.partition.number == targetChoice ? 1 : 0)
                > (score(second, from: current, to: target), second.last?.partition.number == targetChoice ? 1 : 0)
        }
        return orders[0]
    }

    /// How safe the state after the first call of `order` is: 2 when it boots what `current`
    /// boots, 1 when it boots anything, 0 when it boots nothing.
    private static func score(_ order: [Slot], from current: BootTable, to target: BootTable) -> Int {
        guard let first = order.first else { return 0 }
        var between = current
        between[first.partition.number] = target[first.partition.number]
        guard let choice = between.nextBoot() else { return 0 }
        return choice == current.nextBoot() ? 2 : 1
    }
}
