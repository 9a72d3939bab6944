import ArgumentParser
import Slots

struct ShowDisk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List the disk's partitions, the slots' boot state (as --backend keeps it) and the next boot.",
        discussion: "Exits 1 when the two slots cannot be found, or the backend cannot read its state, after listing what is there."
    )

    @OptionGroup var options: DiskOptions

    @Flag(help: "Print JSON (schema tandem.disk/1, see docs/cli-json.md).")
    var json = false

    func run() throws {
        let disk = try options.probe()
        let problems = try disk.tableProblems()
        let pair = Result { () throws(SlotError) in try SlotPair(disk: disk, layout: options.layout) }
        var view: DiskReport.BackendView?
        if options.backend != .gptprio, case let .success(slotPair) = pair {
            let opened = Result { () throws(SlotError) in try options.bootSettings.open(for: slotPair, readOnly: true) }
            view = DiskReport.BackendView(
                kind: options.backend,
                reading: opened.flatMap { backend in Result { () throws(SlotError) in try backend.read(slotPair) } },
                choice: { table in (try? opened.get())?.choice(in: table) })
        }
        let report = DiskReport(disk: disk, problems: problems, pair: pair, view: view)
        print(json ? report.json : report.text)
        if case let .failure(error) = pair {
            throw error
        }
        if case let .failure(error)? = view?.reading {
            throw error
        }
    }
}
