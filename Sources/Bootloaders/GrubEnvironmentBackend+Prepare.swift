#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Platform
import Slots
import SystemPackage

extension GrubEnvironmentBackend {
    /// The state a freshly built disk starts in, as Flatcar images do: A good at priority 1,
    /// B unbootable (priority 0, no tries, not good).
    public static let initialState: [SlotName: BootAttributes] = [
        .a: BootAttributes(priority: 1, tries: 0, successful: true),
        .b: BootAttributes(priority: 0, tries: 0, successful: false),
    ]

    /// Prepares the ESP mounted at `esp` for `pair`'s disk (`updatectl disk init-boot
    /// --backend grub-env`): the directories for each slot's kernel and initrd, the fragment
    /// `tandem/grub.cfg` and the environment `tandem/grubenv` in `initialState`. Variables of
    /// others in an existing grubenv are kept. Every file is written whole (write-temp, fsync,
    /// rename), so the new grubenv is a fresh 1024-byte file. Returns the paths written, in
    /// order.
    public static func prepare(pair: SlotPair, esp: String, kernelOptions: String = "") throws(SlotError) -> [String] {
        if let bad = kernelOptions.first(where: { !GrubFragment.isAllowedInKernelOptions($0) }) {
            throw .bootBackend(.notConfigured(
                backend: .grubEnv, detail: "the kernel options \"\(kernelOptions)\" contain '\(bad)', which GRUB's script "
                    + "would interpret; only printable ASCII without quotes, '\\', '$', ';', '|', '&', '<', '>', '{', '}', '`' and '#' is allowed"))
        }
        var written: [String] = []
        for directory in ["/tandem", "/tandem/a", "/tandem/b"] {
            try makeDirectory(esp + directory)
            written.append(esp + directory)
        }
        let fragment = fragmentPath(esp: esp)
        let uuids = [SlotName.a: pair.a.partition.uniqueGUID, .b: pair.b.partition.uniqueGUID]
        try writeFile(Array(GrubFragment.text(partitionUUIDs: uuids, kernelOptions: kernelOptions).utf8), to: fragment)
        written.append(fragment)

        let environmentPath = environmentPath(esp: esp)
        let storage = GrubEnvironmentFile(path: environmentPath)
        var others = GrubEnvironment()
        let existing: [UInt8]?
        do {
            existing = try storage.read()
        } catch {
            throw .bootBackend(.ioFailed(backend: .grubEnv, path: environmentPath, operation: "read", errno: error))
        }
        if let existing, let parsed = try? GrubEnvironment.parse(existing) {
            others = parsed.environment
        }
        guard let block = GrubBootVariables.encode(initialState, into: others).serialized() else {
            throw .bootBackend(.unreadableState(
                backend: .grubEnv, location: environmentPath,
                detail: "Tandem's variables do not fit in the \(GrubEnvironment.blockSize)-byte block beside the others"))
        }
        try writeFile(block, to: environmentPath)
        written.append(environmentPath)
        return written
    }

    private static func makeDirectory(_ path: String) throws(SlotError) {
        do {
            try AtomicFile.createDirectories(path)
        } catch {
            throw .bootBackend(.ioFailed(backend: .grubEnv, path: path, operation: "create the directory", errno: error))
        }
    }

    private static func writeFile(_ bytes: [UInt8], to path: String) throws(SlotError) {
        do {
            // The ESP is FAT, which has no modes to set (fchmod may fail there).
            try AtomicFile.write(bytes, to: path, permissions: nil)
        } catch {
            throw .bootBackend(.ioFailed(backend: .grubEnv, path: path, operation: "write", errno: error))
        }
    }
}
