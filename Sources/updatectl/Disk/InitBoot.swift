import ArgumentParser
import Bootloaders
import Slots

struct InitBoot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-boot",
        abstract: "Prepare a freshly built disk for its bootloader: its files and an initial state, A good and first, B unbootable.",
        discussion: """
            gptprio writes only the GPT bits, as Flatcar's image builder does (A: priority 1, tries 0, successful 1; B: 0, 0, 0). grub-env and systemd-boot first write their files on the ESP (--esp, or the ESP of DISK found mounted): see docs/slots.md for what each writes. Run it once, before the first boot.
            """
    )

    @OptionGroup var options: DiskOptions

    @Option(name: .customLong("kernel-options"), help: ArgumentHelp(
        "Extra kernel command-line options for both slots (grub-env, systemd-boot); tandem.slot= and mount.usr= are added.",
        valueName: "string"))
    var kernelOptions = ""

    func run() throws {
        let pair = try options.slotPair()
        let backend = try options.bootSettings.open(for: pair)
        let outcome = try BootInitializer.initialize(pair: pair, backend: backend, kernelOptions: kernelOptions)
        for file in outcome.files { print("wrote \(file)") }
        print(describe(outcome.change, on: pair))
    }
}
