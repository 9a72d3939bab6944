import Slots

// The backends whose bootloader files `updatectl disk init-boot` writes, each onto the ESP it
// was made for.

extension GrubEnvironmentBackend: BootFilesPreparing {
    public func prepare(pair: SlotPair, kernelOptions: String) throws -> [String] {
        try Self.prepare(pair: pair, esp: esp, kernelOptions: kernelOptions)
    }
}

extension SystemdBootBackend: BootFilesPreparing {
    public func prepare(pair: SlotPair, kernelOptions: String) throws -> [String] {
        try Self.prepare(pair: pair, esp: esp, kernelOptions: kernelOptions)
    }
}
