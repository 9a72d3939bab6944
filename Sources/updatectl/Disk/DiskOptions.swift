import ArgumentParser
import Bootloaders
import Slots

/// The disk to work on, how its slots are recognised, and which bootloader interface holds
/// their boot state.
struct DiskOptions: ParsableArguments {
    @Argument(help: "The disk, loop device or disk-image file.")
    var disk: String

    @Option(name: .customLong("label-a"), help: "Partition label of slot A.")
    var labelA = SlotLayout.flatcar.labelA

    @Option(name: .customLong("label-b"), help: "Partition label of slot B.")
    var labelB = SlotLayout.flatcar.labelB

    @Option(help: "Where the boot state lives: gptprio (the GPT bits), grub-env, systemd-boot or custom.")
    var backend = BootBackendKind.default

    @Option(name: .customLong("esp"), help: ArgumentHelp(
        "The directory the ESP (or /boot) is mounted at, for grub-env and systemd-boot (default: the ESP or XBOOTLDR partition of DISK, found mounted).",
        valueName: "dir"))
    var esp: String?

    @Option(name: .customLong("hook"), help: ArgumentHelp("The custom backend's executable.", valueName: "path"))
    var hook: String?

    func validate() throws {
        if backend == .custom, hook == nil {
            throw ValidationError("--backend custom needs --hook, the executable that reads and writes the boot state")
        }
    }

    var layout: SlotLayout {
        SlotLayout(labelA: labelA, labelB: labelB)
    }

    var bootSettings: BootBackendSettings {
        BootBackendSettings(kind: backend, esp: esp, hook: hook)
    }

    func probe() throws -> Disk {
        try Disk.probe(disk)
    }

    func slotPair() throws -> SlotPair {
        try SlotPair(disk: try probe(), layout: layout)
    }

    /// The boot state of `pair` through the chosen backend, its ESP resolved.
    func bootControl(_ pair: SlotPair) throws -> BootControl {
        BootControl(pair: pair, backend: try bootSettings.open(for: pair))
    }
}

extension BootBackendKind: ExpressibleByArgument {}
