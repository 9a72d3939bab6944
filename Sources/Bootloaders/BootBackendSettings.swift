import Slots

/// What the boot backend needs besides the disk: `Backend=`, `ESP=` and `Hook=` under
/// `[Slots]` in tandem.conf, or updatectl's `--backend`, `--esp` and `--hook`.
public struct BootBackendSettings: Sendable, Equatable {
    public var kind: BootBackendKind
    /// Where the ESP (or `/boot`) holding the bootloader's files is mounted. Nil: found on the
    /// slots' disk and in the mount table.
    public var esp: String?
    /// The custom backend's executable.
    public var hook: String?

    public init(kind: BootBackendKind = .default, esp: String? = nil, hook: String? = nil) {
        self.kind = kind
        self.esp = esp
        self.hook = hook
    }

    /// The backend for `pair`'s disk. `storage`, for gptprio, defaults to the disk opened for
    /// writing; tests pass a fault-injecting one.
    public func backend(for pair: SlotPair, storage: BlockStorage? = nil) throws(SlotError) -> BootBackend {
        switch kind {
        case .gptprio:
            let opened: BlockStorage
            if let storage {
                opened = storage
            } else {
                opened = try DiskFile(path: pair.disk.path, writable: true)
            }
            return GPTPrioBackend(storage: opened, esp: esp)
        case .grubEnv:
            guard let esp else {
                throw .bootBackend(.notConfigured(backend: kind, detail: "the ESP holding tandem/grubenv is not known (ESP= or --esp)"))
            }
            return GrubEnvironmentBackend(pair: pair, esp: esp)
        case .systemdBoot:
            throw .bootBackend(.notConfigured(backend: kind, detail: "under construction"))
        case .custom:
            throw .bootBackend(.notConfigured(backend: kind, detail: "under construction"))
        }
    }
}
