import ArgumentParser
import Slots

struct SetSlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a slot's priority, tries or successful flag (like cgpt add).",
        discussion: "Flags not given keep their values, and so does every other attribute bit."
    )

    @OptionGroup var options: DiskOptions

    @Argument(help: "The slot: A, B, its label or its partition number.")
    var slot: String

    @Option(help: "Boot priority, 0-15. 0 never boots.")
    var priority: UInt8?

    @Option(help: "Boot attempts left before the bootloader gives up on the slot, 0-15.")
    var tries: UInt8?

    @Option(help: "1 when the slot has booted successfully, else 0.")
    var successful: UInt8?

    func validate() throws {
        if let priority, priority > BootAttributes.maximumPriority {
            throw ValidationError("--priority must be 0-15, not \(priority)")
        }
        if let tries, tries > BootAttributes.maximumTries {
            throw ValidationError("--tries must be 0-15, not \(tries)")
        }
        if let successful, successful > 1 {
            throw ValidationError("--successful must be 0 or 1, not \(successful)")
        }
        if priority == nil && tries == nil && successful == nil {
            throw ValidationError("give at least one of --priority, --tries and --successful")
        }
    }

    func run() throws {
        let pair = try options.slotPair()
        let number = try pair.resolve(slot).partition.number
        let change = try options.bootControl(pair).update { table in
            if let priority { table[number].priority = priority }
            if let tries { table[number].tries = tries }
            if let successful { table[number].successful = successful == 1 }
        }
        print(describe(change, on: pair))
    }
}
