import Slots

/// `updatectl disk init-boot`: makes a freshly built disk bootable by its backend. The
/// bootloader's files first (`BootFilesPreparing`; gptprio has none), then the initial state
/// Flatcar's image builder gives the GPT bits, whatever the backend: A priority 1, good, no
/// tries; B priority 0, not good, no tries. All under the disk's lock.
public enum BootInitializer {
    public struct Outcome {
        /// The bootloader files written (empty for gptprio).
        public var files: [String]
        public var change: BootChange
    }

    public static func initialize(pair: SlotPair, backend: BootBackend, kernelOptions: String,
                                  lockTimeout: Double = DiskLock.defaultTimeout) throws -> Outcome {
        let lock = try DiskLock.acquire(pair.disk.path, timeout: lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        var files: [String] = []
        if let preparing = backend as? BootFilesPreparing {
            files = try preparing.prepare(pair: pair, kernelOptions: kernelOptions)
        } else if backend.kind != .gptprio {
            throw SlotError.bootBackend(.notConfigured(
                backend: backend.kind, detail: "init-boot is not supported for \(backend.kind.rawValue): "
                    + "this backend cannot write its bootloader's files; prepare them by hand (docs/slots.md)"))
        }
        let change = try BootControl(pair: pair, backend: backend, holding: lock).update { table in
            let a = pair.a.partition.number, b = pair.b.partition.number
            table[a] = BootAttributes(priority: 1, tries: 0, successful: true, preserving: table[a].rawValue)
            table[b] = BootAttributes(priority: 0, tries: 0, successful: false, preserving: table[b].rawValue)
        }
        return Outcome(files: files, change: change)
    }
}
