import Slots

/// Where grub-env, systemd-boot and the custom hook keep each slot's boot artifacts on the ESP:
/// `<ESP>/tandem/<a|b>/`, as `vmlinuz`, `initrd.img` and `uki.efi`. One layout for all three, so
/// that an image builder prepares one ESP whatever the backend.
public enum TandemArtifactLayout {
    public static let kernelFileName = "vmlinuz"
    public static let initrdFileName = "initrd.img"
    public static let ukiFileName = "uki.efi"
    public static let fileNames: [BootArtifactKind: String] = [.kernel: kernelFileName, .initrd: initrdFileName, .uki: ukiFileName]

    /// `tandem/a` or `tandem/b`, relative to the ESP's root.
    public static func directory(for slot: SlotName) -> String {
        "tandem/" + slot.rawValue.lowercased()
    }

    /// The placement of `slot`'s artifacts on the ESP mounted at `esp`, for the kinds the
    /// backend's bootloader can load.
    public static func placement(esp: String, slot: SlotName, kinds: Set<BootArtifactKind>) -> BootArtifactPlacement {
        BootArtifactPlacement(directory: esp + "/" + directory(for: slot), fileNames: fileNames.filter { kinds.contains($0.key) })
    }
}
