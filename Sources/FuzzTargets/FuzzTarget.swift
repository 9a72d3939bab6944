/// The parsers Tandem points at input it does not control, each as one fuzz entry point.
///
/// The same functions serve libFuzzer (`tandem-fuzz` built by `make fuzz`) and the replay
/// test that runs every seed and regression input in `make test`. An input may be rejected
/// with an error; it must never trap, hang or leak.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A disk image (both GPT copies) read, flipped and repaired in memory, and probed by libblkid.
    case gpt
    /// A bundle file: header, manifest, signature block, signature check and image digest.
    case bundle
    /// An Omaha server's answer to an update check, an event or a ping.
    case omaha
    /// /etc/tandem/tandem.conf.
    case tandemConf = "tandem-conf"
    /// update_engine's /etc/flatcar/update.conf.
    case updateConf = "update-conf"
    /// /run/update-engine/coordinator.conf as another coordinator left it.
    case coordinatorConf = "coordinator-conf"
    /// The daemon's saved state, state.json.
    case stateJSON = "state-json"
    /// The grub-env backend's GRUB environment block, <ESP>/tandem/grubenv.
    case grubEnv = "grub-env"
    /// systemd-boot's loader entry names and contents, loader.conf and a loader variable.
    case systemdBoot = "systemd-boot"
    /// The body of a multi-range download's answer, with its Content-Type.
    case multipart = "multipart-byteranges"
    /// A bundle's block file, BUNDLE.blocks: its header, offsets and zstd frames, as a delta reads them.
    case blockFile = "block-file"
    /// A slot keys record, <state>/slot-keys/<partition GUID>.keys: its header, a sample and its keys.
    case slotKeys = "slot-keys"

    /// Runs one input through the target's entry point.
    public func run(_ input: [UInt8]) -> FuzzOutcome {
        switch self {
        case .gpt: GPTTarget.run(input)
        case .bundle: BundleTarget.run(input)
        case .omaha: OmahaTarget.run(input)
        case .tandemConf: TandemConfTarget.run(input)
        case .updateConf: UpdateConfTarget.run(input)
        case .coordinatorConf: CoordinatorConfTarget.run(input)
        case .stateJSON: StateJSONTarget.run(input)
        case .grubEnv: GrubEnvTarget.run(input)
        case .systemdBoot: SystemdBootTarget.run(input)
        case .multipart: MultipartTarget.run(input)
        case .blockFile: BlockFileTarget.run(input)
        case .slotKeys: SlotKeysTarget.run(input)
        }
    }
}
