import Slots

/// Where the systemd-boot backend's files live on the ESP.
public enum SystemdBootLayout {
    public static let loaderDirectory = "loader"
    public static let entriesDirectory = "loader/entries"
    /// The options every entry's command line carries after `tandem.slot=` and `mount.usr=`,
    /// one line, written by `init-boot`: an entry Tandem creates later is made from it.
    public static let kernelOptionsFile = "tandem/kernel-options"
    public static let kernelFileName = "vmlinuz"
    public static let initrdFileName = "initrd.img"
    public static let ukiFileName = "uki.efi"

    /// `tandem/a` or `tandem/b`, relative to the ESP's root.
    public static func artifactDirectory(for slot: SlotName) -> String {
        "tandem/" + slot.rawValue.lowercased()
    }
}
