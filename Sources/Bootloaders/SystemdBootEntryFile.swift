import Slots

/// The contents of a Tandem loader entry (Boot Loader Specification Type #1).
public enum SystemdBootEntryFile {
    /// The entry for `slot`: its kernel and initrd, or its UKI, from `<ESP>/tandem/<a|b>/`, and a
    /// command line that names the slot and its /usr partition, then `kernelOptions`.
    public static func render(slot: Slot, kernelOptions: String, unifiedKernelImage: Bool) -> String {
        let directory = SystemdBootLayout.artifactDirectory(for: slot.name)
        var lines = [
            "title Tandem slot \(slot.name.rawValue)",
        ]
        if unifiedKernelImage {
            lines.append("efi /\(directory)/\(SystemdBootLayout.ukiFileName)")
        } else {
            lines.append("linux /\(directory)/\(SystemdBootLayout.kernelFileName)")
            lines.append("initrd /\(directory)/\(SystemdBootLayout.initrdFileName)")
        }
        let options = ["tandem.slot=\(slot.name.rawValue.lowercased())", "mount.usr=PARTUUID=\(slot.partition.uniqueGUID)",
                       kernelOptions].filter { !$0.isEmpty }
        lines.append("options " + options.joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The file systemd-boot 252 would start for this entry, relative to the ESP's root: the
    /// last `linux` or `efi` line (config_entry_add_type1 keeps the last). Nil when there is
    /// none; systemd-boot then skips the entry, as it skips one whose file does not exist.
    public static func loaderPath(in contents: String) -> String? {
        var path: Substring?
        for line in SystemdBootConfigLines.parse(Substring(contents)) where line.key == "linux" || line.key == "efi" {
            path = line.value
        }
        guard let path else { return nil }
        let relative = String(path.map { $0 == "\\" ? "/" : $0 }).drop(while: { $0 == "/" })
        // Only a path inside the ESP is checked for existence; `..` cannot lead there.
        guard !relative.isEmpty, !relative.split(separator: "/").contains("..") else { return nil }
        return String(relative)
    }
}
