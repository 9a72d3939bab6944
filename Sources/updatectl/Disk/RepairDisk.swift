import ArgumentParser
import Slots

struct RepairDisk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Rebuild a damaged, stale or misplaced GPT copy from the good one (like cgpt repair).",
        discussion: "Refuses, writing nothing, when both copies are damaged."
    )

    @OptionGroup var options: DiskOptions

    func run() throws {
        let pair = try options.slotPair()
        let repaired = try BootControl(pair: pair).repair()
        print(repaired.isEmpty ? "both GPT copies are valid and agree; nothing to repair"
                               : repaired.map { "repaired: \($0)" }.joined(separator: "\n"))
    }
}
