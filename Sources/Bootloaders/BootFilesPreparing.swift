import Slots

/// A backend that can write its bootloader's files onto a fresh disk's ESP, for image
/// builders (`updatectl disk init-boot`): the configuration (grub.cfg fragment, loader.conf,
/// entries) and an initial state in which A is good and boots first and B never boots.
///
/// Called with the disk's lock held (`DiskLock`), like every backend write. `BootInitializer`
/// writes the initial table through `BootControl` afterwards as well, so a backend only needs
/// to create what `write` cannot.
public protocol BootFilesPreparing: BootBackend {
    /// Writes the files, crash-safely, and returns the paths written, for the user to see.
    /// `kernelOptions`: extra kernel command-line options for both slots (may be empty);
    /// every backend adds `tandem.slot=<a|b>` and `mount.usr=PARTUUID=<uuid>` itself.
    func prepare(pair: SlotPair, kernelOptions: String) throws -> [String]
}
