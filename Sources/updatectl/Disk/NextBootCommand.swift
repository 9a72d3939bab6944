import ArgumentParser
import Slots

struct NextBootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next-boot",
        abstract: "Say which slot the bootloader (GRUB gptprio.next, or the chosen backend's bootloader) picks next.",
        discussion: """
            With --commit, also do what the bootloader does at power-on: use up one try of a slot on trial and write the table back. Exits 1, loudly, when no slot is bootable.
            """
    )

    @OptionGroup var options: DiskOptions

    @Flag(help: "Use up one try of a trial slot, as the bootloader does.")
    var commit = false

    @Flag(help: "Print JSON (schema tandem.next-boot/1, see docs/cli-json.md).")
    var json = false

    struct Report: Encodable {
        var schema = "tandem.next-boot/1"
        var slot: String
        var partition: Int
        var label: String
        var trial: Bool
        var committed: Bool
        var triesLeft: UInt8
    }

    func run() throws {
        let pair = try options.slotPair()
        let control = try options.bootControl(pair)
        let next = try control.nextBoot(commit: commit)
        let number = next.slot.partition.number
        let triesLeft = try next.change?.after[number].tries ?? control.read().table[number].tries
        let report = Report(slot: next.slot.name.rawValue, partition: number, label: next.slot.partition.label,
                            trial: next.consumesTry, committed: commit, triesLeft: triesLeft)
        if json {
            print(encodeJSON(report))
            return
        }
        var line = "next boot: slot \(report.slot) (\(report.label), partition \(number))"
        if next.consumesTry {
            line += commit ? ", trial boot: one try used, \(triesLeft) left" : ", trial boot: it will use one of its \(triesLeft) tries"
        }
        print(line)
        if let change = next.change, !change.repaired.isEmpty {
            print(change.repaired.map { "repaired: \($0)" }.joined(separator: "\n"))
        }
    }
}
