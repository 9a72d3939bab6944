import Slots

/// The GRUB script Tandem installs as `<ESP>/tandem/grub.cfg`: it reads the slots' state from
/// `<ESP>/tandem/grubenv`, makes `gptprio.next`'s choice, counts a trial boot down with
/// `save_env` and boots the chosen slot's kernel from `<ESP>/tandem/<a|b>/`.
///
/// This generator is the fragment's only source. GRUB's script has no arithmetic, so every
/// step over the 16 values of a priority or a count of tries is an if-chain, and those chains
/// are generated here from the same ranges as `BootAttributes`, so they cannot drift from the
/// model. Only the partition UUIDs and the kernel options differ between disks.
public enum GrubFragment {
    /// Where the fragment and the environment are, as GRUB sees them on the ESP (or `/boot`).
    public static let path = "/tandem/grub.cfg"
    public static let environmentPath = "/tandem/grubenv"

    /// The characters allowed in `kernelOptions`: enough for any kernel parameter, and none
    /// that GRUB's script would expand, quote or split a command at.
    public static func isAllowedInKernelOptions(_ character: Character) -> Bool {
        guard character.isASCII, let scalar = character.unicodeScalars.first else { return false }
        return (0x21...0x7E).contains(scalar.value) && !"\"'\\$;|&<>{}`#".contains(character) || character == " "
    }

    /// The fragment for a disk whose slots are `partitionUUIDs`, booting each kernel with
    /// `kernelOptions` (checked with `isAllowedInKernelOptions`) before Tandem's own
    /// `tandem.slot=` and `mount.usr=PARTUUID=`.
    public static func text(partitionUUIDs: [SlotName: GUID], kernelOptions: String) -> String {
        var lines: [String] = header
        lines += ["", "# The ESP holding the environment: the device this file came from, else the first one found."]
        lines += ["if [ ! -f \(environmentPath) ]; then", "  search --no-floppy --set=root --file \(environmentPath)", "fi"]
        lines += ["", "# Only Tandem's variables are loaded, so nothing else in the block can change this script."]
        lines += GrubBootVariables.names.map { "set \($0)=" }
        lines.append("load_env -f \(environmentPath) " + GrubBootVariables.names.joined(separator: " "))
        for slot in SlotName.allCases {
            lines += normalization(slot)
        }
        lines += choice
        for slot in SlotName.allCases {
            lines += countdown(slot)
        }
        lines += record
        lines += boot(partitionUUIDs: partitionUUIDs, kernelOptions: kernelOptions)
        return lines.joined(separator: "\n") + "\n"
    }

    private static let header = [
        "# Tandem A/B boot (boot backend grub-env), written by `updatectl disk init-boot`: do not edit.",
        "#",
        "# The image's grub.cfg runs it with",
        "#   search --no-floppy --set=root --file \(path)",
        "#   source \(path)",
        "#",
        "# It boots like Flatcar's gptprio.next, from the variables in \(environmentPath): the slot",
        "# with the highest priority among those that are good or have tries left, A on a tie;",
        "# priority 0 never boots. A boot with tries left uses one up, saved with save_env before",
        "# the kernel starts. With no bootable slot it boots nothing and returns to its caller.",
        "insmod part_gpt",
        "insmod fat",
        "insmod ext2",
        "insmod loadenv",
        "insmod test",
        "insmod echo",
        "insmod linux",
    ]

    private static func lower(_ slot: SlotName) -> String { slot.rawValue.lowercased() }

    /// `tandem_<x>_priority` and `tandem_<x>_tries`: the stored values when they are exactly
    /// one of the strings `0`-`15`, else 0; and `tandem_<x>_bootable`.
    private static func normalization(_ slot: SlotName) -> [String] {
        let x = lower(slot)
        var lines = ["", "# Slot \(slot.rawValue): priority and tries as exactly 0-15, anything else as 0."]
        for (stored, local, maximum) in [(GrubBootVariables.priority(slot), "tandem_\(x)_priority", BootAttributes.maximumPriority),
                                         (GrubBootVariables.tries(slot), "tandem_\(x)_tries", BootAttributes.maximumTries)] {
            lines.append("set \(local)=0")
            lines += (1...maximum).map { "if [ \"${\(stored)}\" = \($0) ]; then set \(local)=\($0); fi" }
        }
        lines += [
            "set tandem_\(x)_bootable=0",
            "if [ \"${tandem_\(x)_priority}\" != 0 ]; then",
            "  if [ \"${tandem_\(x)_tries}\" != 0 ]; then set tandem_\(x)_bootable=1; fi",
            "  if [ \"${\(GrubBootVariables.good(slot))}\" = 1 ]; then set tandem_\(x)_bootable=1; fi",
            "fi",
        ]
        return lines
    }

    /// B only when its priority is strictly higher than a bootable A's.
    private static let choice = [
        "",
        "# The choice: B only with a priority strictly above a bootable A's.",
        "set tandem_slot=",
        "if [ \"${tandem_a_bootable}\" = 1 ]; then set tandem_slot=a; fi",
        "if [ \"${tandem_b_bootable}\" = 1 ]; then",
        "  if [ \"${tandem_slot}\" = a ]; then",
        "    if [ \"${tandem_b_priority}\" -gt \"${tandem_a_priority}\" ]; then set tandem_slot=b; fi",
        "  else",
        "    set tandem_slot=b",
        "  fi",
        "fi",
        "set tandem_trial=0",
    ]

    /// A chosen slot with tries left uses one up.
    private static func countdown(_ slot: SlotName) -> [String] {
        let x = lower(slot)
        let stored = GrubBootVariables.tries(slot)
        return ["if [ \"${tandem_slot}\" = \(x) ]; then",
                "  if [ \"${tandem_\(x)_tries}\" != 0 ]; then",
                "    set tandem_trial=1"]
            + (1...BootAttributes.maximumTries).map { "    if [ \"${tandem_\(x)_tries}\" = \($0) ]; then set \(stored)=\($0 - 1); fi" }
            + ["  fi", "fi"]
    }

    /// Saves the try and the boot record, only when something changed: a good slot booting
    /// again writes nothing.
    private static let record = [
        "",
        "# Record the boot; save only what changed.",
        "set tandem_saved=1",
        "if [ -n \"${tandem_slot}\" ]; then",
        "  set tandem_save=${tandem_trial}",
        "  if [ \"${\(GrubBootVariables.booted)}\" != \"${tandem_slot}\" ]; then set tandem_save=1; fi",
        "  if [ \"${\(GrubBootVariables.bootedTrial)}\" != \"${tandem_trial}\" ]; then set tandem_save=1; fi",
        "  set \(GrubBootVariables.booted)=${tandem_slot}",
        "  set \(GrubBootVariables.bootedTrial)=${tandem_trial}",
        "  if [ \"${tandem_save}\" = 1 ]; then",
        "    set tandem_saved=0",
        "    if save_env -f \(environmentPath) \(GrubBootVariables.tries(.a)) \(GrubBootVariables.tries(.b)) "
            + "\(GrubBootVariables.booted) \(GrubBootVariables.bootedTrial); then set tandem_saved=1; fi",
        "  fi",
        "fi",
    ]

    private static func boot(partitionUUIDs: [SlotName: GUID], kernelOptions: String) -> [String] {
        let state = SlotName.allCases.map { slot in
            "\(slot.rawValue): priority ${\(GrubBootVariables.priority(slot))} tries ${\(GrubBootVariables.tries(slot))} "
                + "good ${\(GrubBootVariables.good(slot))}"
        }.joined(separator: ", ")
        var lines = [
            "",
            "if [ -z \"${tandem_slot}\" ]; then",
            "  echo \"tandem: no bootable slot in \(environmentPath) (\(state)); booting nothing\"",
            // A trial whose try was not saved (trial 1, saved 0) could repeat forever.
            "elif [ \"${tandem_trial}${tandem_saved}\" = 10 ]; then",
            "  echo \"tandem: cannot save the try of slot ${tandem_slot} to \(environmentPath); an uncounted trial could repeat forever, so booting nothing\"",
            "else",
        ]
        for (index, slot) in SlotName.allCases.enumerated() {
            let x = lower(slot)
            let options = (kernelOptions.isEmpty ? "" : kernelOptions + " ")
                + "tandem.slot=\(x) mount.usr=PARTUUID=\(partitionUUIDs[slot].map { "\($0)" } ?? "")"
            lines += [
                index == 0 ? "  if [ \"${tandem_slot}\" = \(x) ]; then" : "  else",
                "    echo \"tandem: booting slot \(slot.rawValue) (trial ${tandem_trial})\"",
                "    linux /tandem/\(x)/vmlinuz \(options)",
                "    initrd /tandem/\(x)/initrd.img",
            ]
        }
        lines += ["  fi", "  boot", "fi"]
        return lines
    }
}
