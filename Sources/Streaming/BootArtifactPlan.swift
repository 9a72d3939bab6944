import Platform
import Slots
import SystemPackage
import Verification

/// Where each of a bundle's boot artifacts goes on this host, settled before the first byte of
/// the install is written, and the step that puts them there.
///
/// Each artifact is streamed into a temporary file beside its final name, hashed on the way,
/// and given its name (fsync, rename, fsync of the file and the directory, as FAT needs) only
/// once it matches the signed manifest; a mismatch leaves the old file in place.
struct BootArtifactPlan {
    struct Step {
        var artifact: BundleArtifact
        var destination: String
        /// The artifact's bytes, counted from the start of the image as the bundle's sources are.
        var range: Range<UInt64>
    }

    let steps: [Step]

    /// Refuses, before anything is written, artifacts the backend cannot place, and any whose
    /// file would be the booted slot's.
    init(preamble: BundlePreamble, backend: BootBackend, target: Slot, booted: Slot) throws {
        let kinds = preamble.manifest.artifacts.map(\.kind.rawValue)
        guard !kinds.isEmpty else {
            steps = []
            return
        }
        guard let placement = try backend.artifactPlacement(for: target) else {
            throw InstallError.bootArtifactsRefused(kinds: kinds, reason: .noPlacement(backend: backend.kind))
        }
        let bootedFiles = try backend.artifactPlacement(for: booted).map { booted in
            booted.fileNames.values.map { booted.directory + "/" + $0 }
        } ?? []
        var steps: [Step] = []
        for (artifact, offset) in preamble.artifactRanges {
            let kind = Self.kind(of: artifact)
            guard let name = placement.fileNames[kind] else {
                throw InstallError.bootArtifactsRefused(kinds: kinds, reason: .unsupportedKind(backend: backend.kind, kind: kind))
            }
            let destination = placement.directory + "/" + name
            guard !bootedFiles.contains(destination) else {
                throw InstallError.bootArtifactsRefused(kinds: kinds, reason: .sharedWithBootedSlot(path: destination))
            }
            // The header's parse proved offset + size within the bundle, after the image.
            let (start, below) = offset.subtractingReportingOverflow(preamble.header.imageOffset)
            let (end, overflow) = start.addingReportingOverflow(artifact.size)
            guard !below, !overflow else {
                throw InstallError.io("the bundle's \(artifact.kind.rawValue) lies at \(offset), before its image")
            }
            steps.append(Step(artifact: artifact, destination: destination, range: start..<end))
        }
        self.steps = steps
    }

    /// Streams every artifact from `source` onto the ESP, in bundle order, feeding
    /// `payloadHasher` the same bytes so that the whole file's digest still covers them.
    func install(from source: ChunkSource, pipeline: StreamPipeline, payloadHasher: SHA256?) throws {
        for step in steps {
            let directory = FilePath(step.destination).removingLastComponent().string
            do {
                try AtomicFile.createDirectories(directory)
            } catch {
                throw StreamError.cannotOpen(path: directory, errno: error)
            }
            let file: ReplacementFile
            do {
                file = try ReplacementFile(destination: FilePath(step.destination), permissions: nil)
            } catch {
                throw StreamError.cannotOpen(path: step.destination, errno: error)
            }
            let hasher = SHA256()
            try pipeline.run(source: source, range: step.range, check: .digest(hasher), payloadHasher: payloadHasher,
                             writer: BootArtifactWriter(file: file, range: step.range))
            let digest = hasher.finalize()
            guard digest == step.artifact.sha256 else {
                // Dropped uncommitted, the temporary file removes itself.
                throw InstallError.bootArtifactHashMismatch(kind: step.artifact.kind.rawValue,
                                                            expected: hexString(step.artifact.sha256), actual: hexString(digest))
            }
            do {
                try file.commit()
            } catch {
                throw StreamError.syncFailed(path: step.destination, detail: "\(error)")
            }
        }
    }

    /// The bundle's name for an artifact kind, as the boot backends know it (Verification does
    /// not depend on Slots, so each module has its own enum).
    private static func kind(of artifact: BundleArtifact) -> BootArtifactKind {
        switch artifact.kind {
        case .kernel: .kernel
        case .initrd: .initrd
        case .uki: .uki
        }
    }
}
