import ArgumentParser
import Slots

struct PrioritizeSlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prioritize",
        abstract: "Give a slot the top boot priority, keeping the others' order (like cgpt prioritize)."
    )

    @OptionGroup var options: DiskOptions

    @Argument(help: "The slot: A, B, its label or its partition number.")
    var slot: String

    func run() throws {
        let pair = try options.slotPair()
        let name = try pair.resolve(slot).name
        print(describe(try options.bootControl(pair).prioritize(name), on: pair))
    }
}
