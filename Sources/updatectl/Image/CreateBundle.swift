import ArgumentParser
import Delta
import Verification

struct CreateBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Build a signed bundle from a raw slot image.",
        discussion: """
            The bundle is written to a temporary file beside --out and renamed into place when complete. A format 3 \
            bundle gets its block file beside it, OUT.blocks: every 4096-byte block of the image compressed on its own, \
            which hosts installing a delta download the blocks they lack from. Publish it beside the bundle.
            """
    )

    @Option(name: .customLong("key"), help: "A private key to sign with; repeat to sign with several.")
    var keys: [String] = []

    @Option(help: "The OS version of the image, e.g. 3975.2.1.")
    var version: String

    @Option(help: "The raw slot image.")
    var image: String

    @Option(help: "The board and OS the image is for, e.g. flatcar-amd64; hosts refuse other values.")
    var compatible = "generic"

    @Option(name: .customLong("min-version"), help: "The version a host must already run to install this one.")
    var minimumVersion: String?

    @Option(help: "Creation time, UTC, like 2026-11-21T19:00:00Z (default: now), for reproducible bundles.")
    var created: String?

    @Option(name: .customLong("out"), help: "The bundle to write.")
    var output: String

    @Option(help: "A kernel the slot boots, installed onto the ESP (for bootloaders that cannot read the slot).")
    var kernel: String?

    @Option(help: "An initrd to go with --kernel.")
    var initrd: String?

    @Option(help: "A unified kernel image, instead of --kernel and --initrd.")
    var uki: String?

    @Option(help: ArgumentHelp(
        "The bundle format: 3 (a signed chunk table: every chunk is verified before it is written) or 1 "
            + "(2 with boot artifacts), for hosts whose Tandem predates format 3.",
        valueName: "3|1"))
    var format: BundleFormatChoice = .chunked

    @Option(name: .customLong("chunk-size"), help: ArgumentHelp(
        "Format 3: bytes per verified chunk, a power of two from 65536 to 1048576.", valueName: "bytes"))
    var chunkSize: UInt64 = ChunkLayout.defaultChunkSize

    @Flag(name: .customLong("no-block-file"), help: "Format 3: do not write OUT.blocks; deltas then fetch raw blocks from the bundle.")
    var noBlockFile = false

    enum BundleFormatChoice: String, ExpressibleByArgument {
        case chunked = "3"
        case legacy = "1"
    }

    func validate() throws {
        if keys.isEmpty { throw ValidationError("give at least one --key") }
        if uki != nil, kernel != nil || initrd != nil { throw ValidationError("give --uki or --kernel (and --initrd), not both") }
        if initrd != nil, kernel == nil { throw ValidationError("--initrd needs --kernel") }
        guard ChunkLayout.chunkSizes.contains(chunkSize), chunkSize & (chunkSize - 1) == 0 else {
            throw ValidationError("--chunk-size must be a power of two from \(ChunkLayout.chunkSizes.lowerBound) "
                + "to \(ChunkLayout.chunkSizes.upperBound), not \(chunkSize)")
        }
    }

    private var artifacts: [BundleArtifact.Kind: String] {
        var artifacts: [BundleArtifact.Kind: String] = [:]
        artifacts[.kernel] = kernel
        artifacts[.initrd] = initrd
        artifacts[.uki] = uki
        return artifacts
    }

    func run() throws {
        let signingKeys = try keys.map { path throws(KeyError) in try SigningKey(privateKeyPEMFile: path) }
        let preamble = try BundleWriter.create(image: image, version: version, compatible: compatible,
                                               minimumVersion: minimumVersion, created: created,
                                               artifacts: artifacts, chunkSize: format == .chunked ? chunkSize : nil,
                                               keys: signingKeys, output: output)
        let manifest = preamble.manifest
        print("wrote \(output): version \(manifest.version) for \(manifest.compatible), image \(manifest.imageSize) bytes, "
            + "sha256 \(hexString(manifest.imageSHA256))")
        if let layout = manifest.chunkLayout {
            print("format 3: \(layout.chunkCount) chunks of \(layout.chunkSize) bytes, chunk table \(layout.tableLength) bytes")
            if !noBlockFile {
                let blockFile = output + BlockFileHeader.fileSuffix
                let length = try BlockFileWriter.write(image: output, imageOffset: preamble.header.imageOffset, layout: layout,
                                                       imageSHA256: manifest.imageSHA256, to: blockFile)
                print("wrote \(blockFile): \(layout.blockCount) blocks compressed into \(length) bytes, for deltas")
            }
        }
        for artifact in manifest.artifacts {
            print("\(artifact.kind.rawValue) \(artifact.size) bytes, sha256 \(hexString(artifact.sha256))")
        }
        for signature in preamble.signatures {
            print("signed by \(hexString(signature.keyID)) (\(signature.algorithm))")
        }
    }
}
