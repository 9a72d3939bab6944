import ArgumentParser
import Slots
import Streaming
import UpdateModel
import Verification

struct InstallBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a signed bundle into the inactive slot of a disk, offline.",
        discussion: """
            BUNDLE is a path, a file:// URL or an http(s):// URL. The bundle's signature, its compatible string, minimum version and size are checked before anything is written; the target slot is made unbootable, the image is streamed in while being hashed (a format 3 bundle: each chunk proven before it is written, and the blocks the booted slot already holds copied from it rather than downloaded, unless --no-delta), read back and hashed again, and only then is the slot put on trial: it boots next, --tries times at most, and the bootloader falls back to the old slot if it never proves itself.

            The slot to protect is --booted-slot, else the running system's slot when DISK is its disk, else the slot the bootloader would boot next.
            """
    )

    @OptionGroup var options: DiskOptions

    @Argument(help: "The bundle: a path, file:// or http(s):// URL.")
    var bundle: String

    @Option(name: .customLong("keys"), help: "Directory of trusted public keys (*.pem); may repeat, earlier ones override later ones. Default: /etc/tandem/keys.d, then /usr/share/tandem/keys.d.")
    var keyDirectories: [String] = []

    @Option(help: "Slot to write: auto (the one not booted), A or B.")
    var slot: SlotChoice = .auto

    @Option(name: .customLong("booted-slot"), help: "The slot that must not be touched (A, B, a label or a partition number).")
    var bootedSlot: String?

    @Flag(name: .customLong("no-verify-readback"), help: "Skip reading the slot back and hashing it again.")
    var noVerifyReadback = false

    @Flag(name: .customLong("no-delta"), help: "Download the whole image even when the booted slot holds much of it (format 3 bundles).")
    var noDelta = false

    @Option(name: .customLong("state-dir"), help: "Where checkpoints are kept, so an interrupted install resumes, and the block keys of the slots it wrote, so a later delta from them need not hash them.")
    var stateDirectory = "/var/lib/tandem"

    @Option(help: "This system's compatible string (default: TANDEM_COMPATIBLE or ID from /etc/os-release).")
    var compatible: String?

    @Option(name: .customLong("current-version"), help: "The version running now, for the bundle's min-version (default: VERSION_ID from /etc/os-release).")
    var currentVersion: String?

    @Option(name: .customLong("ca-bundle"), help: "Extra trusted CA certificates (PEM) for https.")
    var caBundle: String?

    @Option(help: "Boot attempts the new slot gets, 1-15.")
    var tries: UInt8 = 1

    @Option(name: .customLong("checkpoint-mib"), help: "Checkpoint every this many MiB.")
    var checkpointMiB: UInt64 = 64

    @Option(name: .customLong("expect-size"), help: "The bundle file's size in bytes, as published (e.g. by an Omaha server); checked before anything is written. Needs --expect-sha256.")
    var expectedSize: UInt64?

    @Option(name: .customLong("expect-sha256"), help: "The bundle file's SHA-256, as published: hex (sha256sum) or base64 (Omaha); checked before the slot is made bootable. Needs --expect-size.")
    var expectedDigest: String?

    func validate() throws {
        guard (1...BootAttributes.maximumTries).contains(tries) else {
            throw ValidationError("--tries must be 1-15, not \(tries)")
        }
        guard checkpointMiB >= 1 else { throw ValidationError("--checkpoint-mib must be at least 1") }
        guard (expectedSize == nil) == (expectedDigest == nil) else {
            throw ValidationError("--expect-size and --expect-sha256 go together: the file's size and its SHA-256")
        }
        if let expectedDigest, payloadDigest(expectedDigest) == nil {
            throw ValidationError("--expect-sha256 must be 64 hexadecimal digits or the base64 of 32 bytes, not \(expectedDigest)")
        }
    }

    /// A SHA-256 as sha256sum prints it (hex) or as Omaha sends it (base64).
    private func payloadDigest(_ text: String) -> [UInt8]? {
        if text.count == 64, let digest = bytes(fromHex: text) { return digest }
        return PayloadExpectation(size: 0, sha256Base64: text)?.sha256
    }

    func run() throws {
        let booted = try locateBootedSlot()
        print("protecting slot \(booted.slot.name.rawValue) (\(booted.evidence))")
        let osRelease = HostIdentity.fromOSRelease()
        guard let hostCompatible = compatible ?? osRelease?.compatible else {
            throw ValidationError("cannot tell this system's compatible string from /etc/os-release; give --compatible")
        }
        var installOptions = InstallOptions(host: HostIdentity(compatible: hostCompatible, version: currentVersion ?? osRelease?.version))
        installOptions.slot = slot
        installOptions.verifyReadback = !noVerifyReadback
        installOptions.delta = !noDelta
        installOptions.stateDirectory = stateDirectory
        installOptions.checkpointInterval = checkpointMiB << 20
        installOptions.trialTries = tries
        installOptions.bootBackend = options.bootSettings.factory
        installOptions.http.caBundle = caBundle
        if let expectedSize, let digest = expectedDigest.flatMap(payloadDigest) {
            installOptions.expectedPayload = PayloadExpectation(size: expectedSize, sha256: digest)
        }

        let trust = try TrustStore(directories: keyDirectories.isEmpty ? TrustStore.defaultDirectories : keyDirectories)
        let printer = ProgressPrinter()
        let result = try Installer(booted: booted, trust: trust, options: installOptions)
            .install(bundle) { printer.show($0) }
        if result.resumedFrom > 0 {
            print("resumed from \(formatBytes(result.resumedFrom)) already in the slot")
        }
        if let delta = result.delta {
            print("delta: \(delta.blocksFromBootedSlot) blocks copied from slot \(booted.slot.name.rawValue), "
                  + "\(delta.blocksOfZeros) of zeros written; "
                  + "\(formatBytes(delta.bytesFetched)) of the image fetched as \(formatBytes(delta.bytesDownloaded)) "
                  + "downloaded (\(delta.bytesDownloaded) bytes)")
            print("slot \(booted.slot.name.rawValue)'s block keys: \(delta.bootedSlotKeys)")
            if let refusal = delta.blockFileRefusal {
                print("no compressed blocks: \(refusal)")
            }
            if let refusal = delta.manyRangesRefusal {
                print("the server does not answer several ranges in one request (\(refusal)); each range was asked for alone")
            }
        }
        if case .failed = result.slotKeys {
            print("slot \(result.slot.name.rawValue)'s block keys \(result.slotKeys)")
        }
        if result.chunksRefetched > 0 {
            print("\(result.chunksRefetched) chunk(s) did not prove out where they were and were downloaded again")
        }
        print("installed version \(result.manifest.version) into slot \(result.slot.name.rawValue) "
              + "(\(result.slot.partition.label), partition \(result.slot.partition.number)), signed by \(result.signer)")
        print(result.readbackVerified ? "read-back verified: the slot holds exactly the signed image" : "read-back skipped")
        print("slot \(result.slot.name.rawValue) is on trial: it boots next, \(tries) time(s) at most, then falls back to slot \(booted.slot.name.rawValue)")
    }

    private func locateBootedSlot() throws -> BootedSlot {
        if let bootedSlot {
            return try BootedSlot.locate(disk: options.disk, bootedSlot: bootedSlot, layout: options.layout)
        }
        if let running = try? BootedSlot.locate(disk: options.disk, layout: options.layout) {
            return running
        }
        return try BootedSlot.offline(disk: options.disk, layout: options.layout, bootBackend: options.bootSettings.factory)
    }
}

extension SlotChoice: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}
