/// Which bootloader interface holds the slots' boot state. The raw value is the name used in
/// tandem.conf (`Backend=`), on updatectl's command line (`--backend`) and in JSON.
public enum BootBackendKind: String, CaseIterable, Sendable, Codable {
    /// The ChromeOS/Flatcar GPT attribute bits, read by Flatcar's GRUB (`gptprio.next`) and
    /// ChromeOS firmware.
    case gptprio
    /// Stock GRUB: variables in a grubenv block, read and counted down by a shipped grub.cfg
    /// fragment.
    case grubEnv = "grub-env"
    /// systemd-boot: one Boot Loader Specification entry per slot, with boot counting in the
    /// entry's file name.
    case systemdBoot = "systemd-boot"
    /// An executable hook the administrator provides (U-Boot's `fw_setenv`, barebox, ...).
    case custom

    public static let `default` = BootBackendKind.gptprio

    /// For messages: what the backend drives.
    public var displayName: String {
        switch self {
        case .gptprio: "GPT priority/tries/successful bits (gptprio)"
        case .grubEnv: "GRUB environment block (grub-env)"
        case .systemdBoot: "systemd-boot entries with boot counting (systemd-boot)"
        case .custom: "custom boot hook (custom)"
        }
    }
}
