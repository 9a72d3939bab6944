#if canImport(Glibc)
import Glibc
#endif
import Slots
import SystemPackage

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
            guard let esp else {
                throw .bootBackend(.notConfigured(backend: kind, detail: "no ESP given (ESP= in tandem.conf, or --esp)"))
            }
            return SystemdBootBackend(esp: esp)
        case .custom:
            guard let hook, !hook.isEmpty else {
                throw .bootBackend(.notConfigured(backend: kind, detail: "no hook: set Hook= under [Slots] or pass --hook PATH"))
            }
            var info = stat()
            guard stat(hook, &info) == 0 else {
                throw .bootBackend(.notConfigured(backend: kind, detail: "the hook \(hook) is not executable: \(Errno(rawValue: errno))"))
            }
            guard info.st_mode & S_IFMT == S_IFREG, access(hook, X_OK) == 0 else {
                throw .bootBackend(.notConfigured(backend: kind, detail: "the hook \(hook) is not executable: "
                    + (info.st_mode & S_IFMT == S_IFREG ? "\(Errno(rawValue: errno))" : "not a regular file")))
            }
            return CustomHookBackend(hook: CustomHook(path: hook), esp: esp)
        }
    }
}
