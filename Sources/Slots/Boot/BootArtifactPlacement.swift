/// The files a bundle may carry for a slot's boot, besides the slot image, for bootloaders
/// that cannot read the slot's own file system.
public enum BootArtifactKind: String, CaseIterable, Sendable, Codable {
    case kernel
    case initrd
    /// A unified kernel image: kernel, initrd and command line in one EFI binary.
    case uki
}

/// Where a backend's bootloader loads one slot's boot artifacts from: a directory on the
/// mounted ESP (or `/boot`), and the file name of each kind in it.
public struct BootArtifactPlacement: Sendable, Equatable {
    /// Absolute path of the directory, on the mounted file system the bootloader reads.
    public var directory: String
    /// The file name of each kind of artifact this bootloader can load; a kind missing here
    /// cannot be installed for this backend.
    public var fileNames: [BootArtifactKind: String]

    public init(directory: String, fileNames: [BootArtifactKind: String]) {
        self.directory = directory
        self.fileNames = fileNames
    }
}
