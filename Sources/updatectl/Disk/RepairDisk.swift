import ArgumentParser
import Slots

struct RepairDisk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Repair the stored boot state: a damaged, stale or misplaced GPT copy (like cgpt repair), or the backend's damaged files.",
        discussion: "Refuses, writing nothing, when both GPT copies are damaged."
    )

    @OptionGroup var options: DiskOptions

    func run() throws {
        let pair = try options.slotPair()
        let repaired = try options.bootControl(pair).repair()
        print(repaired.isEmpty ? options.backend == .gptprio
                             ? "both GPT copies are valid and agree; nothing to repair" : "the boot state is sound; nothing to repair"
                               : repaired.map { "repaired: \($0)" }.joined(separator: "\n"))
    }
}
