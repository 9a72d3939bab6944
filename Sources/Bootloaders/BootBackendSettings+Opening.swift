import Slots

extension BootBackendSettings {
    /// Whether the backend's bootloader keeps its state on the ESP: then an ESP must be
    /// configured or found. gptprio keeps it in the GPT and uses an ESP only for boot
    /// artifacts (Flatcar's `vmlinuz-a`/`-b`), when one is given or mounted; the custom hook
    /// keeps it wherever the hook does.
    public var requiresESP: Bool {
        switch kind {
        case .grubEnv, .systemdBoot: true
        case .gptprio, .custom: false
        }
    }

    /// These settings with the ESP filled in where the backend needs or can use one: the
    /// configured path, else the partition found mounted (`ESPLocator`).
    public func resolvingESP(for pair: SlotPair, paths: SystemPaths = .live) throws(SlotError) -> BootBackendSettings {
        var resolved = self
        let locator = ESPLocator(paths: paths)
        if requiresESP || esp != nil {
            resolved.esp = try locator.locate(configured: esp, on: pair.disk, for: kind)
        } else if kind == .gptprio {
            // Optional for gptprio: without a mounted ESP, bundles carrying kernels are refused.
            resolved.esp = try? locator.locate(configured: nil, on: pair.disk, for: kind)
        }
        return resolved
    }

    /// The configured backend for `pair`, its ESP resolved: the one way tandemd and updatectl
    /// open a backend. `readOnly` opens gptprio's disk read-only (see `BootBackendFactory`).
    public func open(for pair: SlotPair, readOnly: Bool = false, paths: SystemPaths = .live) throws(SlotError) -> BootBackend {
        let storage: BlockStorage? = readOnly && kind == .gptprio ? try DiskFile(path: pair.disk.path) : nil
        return try resolvingESP(for: pair, paths: paths).backend(for: pair, storage: storage)
    }

    /// `open` as a factory, for the modules below Bootloaders (Streaming, the engine's disk).
    public var factory: BootBackendFactory {
        let settings = self
        return { pair, readOnly throws(SlotError) in try settings.open(for: pair, readOnly: readOnly) }
    }
}
