import ArgumentParser
import Slots

struct ShowDisk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List the disk's partitions, the slots' boot flags and the next boot.",
        discussion: "Exits 1 when the two slots cannot be found, after listing what is there."
    )

    @OptionGroup var options: DiskOptions

    @Flag(help: "Print JSON (schema tandem.disk/1, see docs/cli-json.md).")
    var json = false

    func run() throws {
        let disk = try options.probe()
        let problems = try disk.tableProblems()
        let pair = Result { () throws(SlotError) in try SlotPair(disk: disk, layout: options.layout) }
        let report = DiskReport(disk: disk, problems: problems, pair: pair)
        print(json ? report.json : report.text)
        if case let .failure(error) = pair {
            throw error
        }
    }
}
