import ArgumentParser

struct DiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "Inspect and change the slots of a disk or disk-image file, offline.",
        subcommands: [ShowDisk.self, InstallBundle.self, SetSlot.self, MarkSlot.self, PrioritizeSlot.self, NextBootCommand.self, RepairDisk.self, InitBoot.self]
    )
}
