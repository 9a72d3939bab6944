/// Opens the configured boot backend for a pair of slots: tandemd's `[Slots] Backend=` or
/// updatectl's `--backend`, made by Bootloaders' `BootBackendSettings`. Modules below
/// Bootloaders (Streaming, Engine's SlotDisk) are handed one of these rather than a kind, so
/// that they drive whichever backend is configured without knowing the backends.
///
/// `readOnly`: the caller only reads. gptprio then opens the disk read-only, since closing a
/// descriptor opened for writing makes udev probe the disk again.
public typealias BootBackendFactory = @Sendable (_ pair: SlotPair, _ readOnly: Bool) throws(SlotError) -> BootBackend

/// The GPT bits on the pair's own disk: today's behaviour, and the default wherever no
/// backend is configured.
public let gptprioBackendFactory: BootBackendFactory = { pair, readOnly throws(SlotError) in
    GPTPrioBackend(storage: try DiskFile(path: pair.disk.path, writable: !readOnly))
}
