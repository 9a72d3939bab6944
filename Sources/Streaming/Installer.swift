import Delta
import FoundationEssentials
import HTTP
import Platform
import Slots
import SystemPackage
import UpdateModel
import Verification

public struct InstallOptions: Sendable {
    public var slot: SlotChoice = .auto
    /// Re-read the slot with O_DIRECT after writing and hash it again before it may boot.
    public var verifyReadback = true
    /// Checkpoints go here; nil disables resuming.
    public var stateDirectory: String?
    public var checkpointInterval: UInt64 = 64 << 20
    /// Install a format 3 bundle as a delta: blocks the booted slot holds are copied from it
    /// (each chunk proven against the signed table), only the rest is downloaded.
    public var delta = true
    /// Boot attempts the new slot gets before the bootloader falls back.
    public var trialTries: UInt8 = 1
    public var host: HostIdentity
    public var http = HTTPOptions()
    public var chunkSize = StreamPipeline.defaultChunkSize
    public var bufferCount = StreamPipeline.defaultBufferCount
    public var directIO = true
    /// What the update server says the whole bundle file is: checked in addition to the
    /// signature, its size before anything is written and its SHA-256 before the slot may boot.
    /// Nil: no second digest, and no thread computing one.
    public var expectedPayload: PayloadExpectation? = nil
    /// Put the slot on trial once it is verified. False stages the image: written, checked and
    /// read back, but left unbootable until `Installer.activateStaged`.
    public var activate = true
    /// Seconds to wait for another writer's lock on the disk (`DiskLock`) before giving up.
    public var diskLockTimeout = DiskLock.defaultTimeout
    /// Opens the boot backend the trial flips go through (`[Slots] Backend=`, `--backend`):
    /// invalidating the target before the first byte, putting it on trial after the last.
    public var bootBackend: BootBackendFactory = gptprioBackendFactory

    public init(host: HostIdentity) {
        self.host = host
    }
}

public struct InstallResult: Sendable {
    public var slot: Slot
    public var manifest: Manifest
    public var signer: String
    /// Image bytes already in the slot from an interrupted attempt, re-hashed instead of re-sent.
    public var resumedFrom: UInt64
    public var readbackVerified: Bool
    public var usedDirectIO: Bool
    /// SHA-256 of the whole bundle file as it arrived, when `expectedPayload` asked for it (and
    /// then equal to it); nil otherwise.
    public var payloadSHA256: [UInt8]?
    /// Whether the slot was put on trial; false when `activate` was off (the image is staged).
    public var activated: Bool
    /// What a delta install took from where; nil for a full install.
    public var delta: DeltaOutcome?
    /// Format 3: chunks fetched again whole from the bundle because what was in their place did
    /// not prove out: an interrupted attempt left them wrong, or a delta's blocks copied from
    /// the booted slot had changed since they were hashed (bit rot, or something wrote there).
    public var chunksRefetched: Int
    /// Whether the target's block keys were recorded for a later delta from it.
    public var slotKeys: SlotKeysRecording
}

/// Where a delta install's image came from.
public struct DeltaOutcome: Sendable, Equatable {
    /// Blocks copied from the booted slot (and proven with their chunks).
    public var blocksFromBootedSlot: UInt64
    /// Blocks of zeros, written from nothing (and proven with their chunks).
    public var blocksOfZeros: UInt64
    /// Image bytes fetched: the blocks the booted slot lacked, and the chunks fetched again.
    public var bytesFetched: UInt64
    /// What they took to download: less than `bytesFetched` when the bundle's block file
    /// served them compressed.
    public var bytesDownloaded: UInt64
    /// Why the block file (`BUNDLE.blocks`) was not used, or stopped being used; nil when it
    /// served every fetched block.
    public var blockFileRefusal: String?
    /// Why the server's answer to several ranges in one request was not used, if it was not.
    public var manyRangesRefusal: String?
    /// Where the booted slot's block keys came from: its record, or hashing it.
    public var bootedSlotKeys: BootedSlotKeys
}

/// Installs a signed bundle into the inactive slot.
///
/// Order, so that nothing half-written can ever boot: read the preamble; verify the signature,
/// compatibility, minimum version, size, that the target is neither booted nor in use, and that
/// the boot backend can take the bundle's boot artifacts; invalidate the target's boot flags;
/// stream (hash and write at once, checkpointing); compare the hash and byte count with the
/// signed manifest; install the boot artifacts onto the ESP, each proven against its signed
/// hash before it gets its name; compare the whole file's digest with the update server's, when
/// it stated one; read the slot back and hash it again; and only then put the slot on trial, or
/// leave it staged for `activateStaged`.
public final class Installer: Sendable {
    public let booted: BootedSlot
    public let trust: TrustStore
    public let options: InstallOptions
    private let pipeline: StreamPipeline

    public init(booted: BootedSlot, trust: TrustStore, options: InstallOptions) {
        self.booted = booted
        self.trust = trust
        self.options = options
        pipeline = StreamPipeline(chunkSize: options.chunkSize, bufferCount: options.bufferCount)
        // An install's peak RSS stays within 32 MiB only if what planning frees goes back.
        HeapPolicy.mapLargeAllocationsApart()
    }

    /// Stops an install in progress at the next chunk; `install` then throws `.stream(.cancelled)`.
    /// A wait for the disk's lock ends too.
    public func cancel() {
        pipeline.cancel()
    }

    /// The disk's lock, for as long as another writer holds it and nobody cancels.
    private func lockDisk() throws -> DiskLock {
        do {
            return try DiskLock.acquire(booted.pair.disk.path, timeout: options.diskLockTimeout) { pipeline.isCancelled }
        } catch .diskLockWaitAbandoned {
            throw StreamError.cancelled
        }
    }

    /// `accepted` is called once the bundle passed every check, before the target is touched:
    /// from then on there is a version and a size to report. It may still decline the bundle
    /// (a policy of the caller's, such as a quarantine), and nothing is written.
    public func install(_ location: String, progress: @escaping @Sendable (InstallProgress) -> Void = { _ in },
                        accepted: @Sendable (Manifest, Slot) throws(InstallError) -> Void = { _, _ in }) throws(InstallError) -> InstallResult {
        do {
            return try performInstall(location, accepted: accepted, progress: progress)
        } catch {
            throw InstallError.wrap(error)
        }
    }

    private func performInstall(_ location: String, accepted: @Sendable (Manifest, Slot) throws(InstallError) -> Void,
                                progress: @escaping @Sendable (InstallProgress) -> Void) throws -> InstallResult {
        let source: BundleSource
        let preamble: BundlePreamble
        do {
            source = try openBundle(location, http: options.http, cancellation: pipeline.cancellation)
            preamble = try source.readPreamble()
        } catch let error as StreamError where error != .cancelled {
            // Before the slot is touched: the message must not say it was left unbootable.
            throw InstallError.sourceUnavailable(error)
        }
        if let expected = options.expectedPayload {
            // Before anything else: a server that announces another size than the bundle's own
            // header is offering some other file, and there is no point in reading further.
            let actual = preamble.header.bundleLength
            guard actual == expected.size else {
                throw InstallError.payloadSizeMismatch(expected: expected.size, actual: actual)
            }
        }
        let verified = try trust.verify(preamble)
        let manifest = verified.manifest
        if let offered = options.expectedPayload?.version, offered != manifest.version {
            throw InstallError.payloadVersionMismatch(offered: offered, signed: manifest.version)
        }
        let target = try preflight(manifest)
        try accepted(manifest, target)
        let imageSource = try source.imageSource(for: preamble)
        // The whole file's digest covers the preamble exactly as it was read, then the chunk
        // table, then the image: the bytes the server's digest was computed over, in order.
        var payloadHasher = options.expectedPayload.map { _ in SHA256() }
        payloadHasher?.update(preamble.storedBytes)
        // Format 3: the chunk table, proven against the signed manifest before anything is
        // touched; from here on every chunk is proven against it before it is written.
        // Format 3 and a booted slot to copy from: the new image's keys are indexed as the table
        // arrives, and the plan made once it is proven. The index (8 bytes a block) is let go
        // once the plan is made, before the writing needs memory of its own.
        // The keys go to the target's slot keys record too, named once the slot holds the image.
        let slotKeys = options.stateDirectory.map { SlotKeysStore(stateDirectory: $0) }
        let targetGUID = target.partition.uniqueGUID.description
        var slotKeysRecording = SlotKeysRecording.notKept
        var recorder: SlotKeysRecorder?
        if let slotKeys, manifest.chunkLayout != nil {
            do {
                recorder = try slotKeys.recorder(forPartition: targetGUID, imageSize: manifest.imageSize,
                                                 imageSHA256: manifest.imageSHA256)
            } catch {
                slotKeysRecording = .failed("creating a record in \(slotKeys.directory): \(error)")
            }
        }
        let bootedSlot = booted.pair[booted.slot.name]
        let (chunkDigests, plan, bootedKeys) = try { () throws -> (ChunkDigests?, DeltaPlan?, BootedSlotKeys?) in
            let planner = options.delta ? manifest.chunkLayout.flatMap(DeltaPlanner.init) : nil
            let blockKey: ((UInt64) -> Void)? = planner == nil && recorder == nil ? nil : { key in
                planner?.add(key: key)
                recorder?.append(key)
            }
            let digests = try readChunkTable(preamble, from: source, payloadHasher: payloadHasher, blockKey: blockKey)
            guard let planner else { return (digests, nil, nil) }
            let record = slotKeys.map { store in
                Result { () throws(SlotKeysRefusal) in try store.record(forPartition: bootedSlot.partition.uniqueGUID.description) }
            } ?? .failure(.absent)
            let planned = planner.plan(bootedDisk: booted.pair.disk.path, extent: bootedSlot.extent, record: record)
            return (digests, planned?.plan, planned?.bootedKeys)
        }()
        do throws(Errno) {
            try recorder?.finishKeys()
        } catch {
            recorder = nil
            slotKeysRecording = .failed("writing a record in \(slotKeys?.directory ?? ""): \(error)")
        }
        if plan != nil {
            // A delta downloads only part of the file, so the whole file's digest cannot be
            // had; what stands in for it is the signed version matched above, and every chunk
            // proven against the signed table (docs/streaming.md, "Delta installs").
            payloadHasher = nil
        }

        // From here to the end, no other writer: the disk is probed again under the lock, and
        // what was planned on the first probe must still hold before the first byte is written.
        let diskLock = try lockDisk()
        defer { withExtendedLifetime(diskLock) {} }
        let pair = try booted.pair.confirmed(target: target.name, booted: booted.slot)
        if let usage = pair.usage(of: target) {
            throw InstallError.targetInUse(slot: target.name.rawValue, detail: usage)
        }
        let control = BootControl(pair: pair, backend: try options.bootBackend(pair, false), holding: diskLock)
        // The target as probed under the lock: its extent is where the writer may write.
        let confirmedTarget = pair[target.name]
        let artifacts = try BootArtifactPlan(preamble: preamble, backend: control.backend,
                                             target: confirmedTarget, booted: pair[booted.slot.name])
        let slotOffset = confirmedTarget.extent.offset
        let identity = Checkpoint(
            imageSHA256: hexString(manifest.imageSHA256), imageSize: manifest.imageSize, version: manifest.version,
            slotUUID: target.partition.uniqueGUID.description, offset: 0, source: location, validator: source.validator)
        let store = options.stateDirectory.map { CheckpointStore(stateDirectory: $0) }

        // A checkpoint counts only while the slot is still invalidated: anything else means the
        // slot was touched since, and its contents cannot be trusted to continue from.
        let current = try control.read().table[target.partition.number]
        var resumeOffset: UInt64 = 0
        if let saved = store?.load(), saved.matches(identity), !current.isBootable, current.priority == 0,
           saved.offset <= manifest.imageSize {
            resumeOffset = saved.offset
        } else {
            try removeCheckpoint(store)
        }
        // A record must never outlive its slot's contents: it goes before the first byte does.
        if let slotKeys {
            do {
                try slotKeys.remove(forPartition: targetGUID, keeping: recorder)
            } catch {
                throw InstallError.slotKeysRecord(path: slotKeys.path(forPartition: targetGUID), detail: "\(error)")
            }
        }
        try control.invalidate(target.name)

        let hasher = SHA256()
        // Chunks to fetch whole from the bundle once the rest is written: those an interrupted
        // attempt left wrong, and those a delta's copied blocks did not prove.
        var refetch: [Int] = []
        if resumeOffset > 0 {
            let meter = ProgressMeter(phase: .resuming, startOffset: 0, total: resumeOffset, report: progress)
            let slotSource = try FileRangeSource(path: pair.disk.path, baseOffset: slotOffset, directIO: options.directIO)
            // Format 3 proves the written part chunk by chunk: what is wrong there (the
            // attempt was cut off, or something wrote to the slot) is fetched again. Formats 1
            // and 2 find it only at the end, as a wrong digest.
            let check: StreamPipeline.ImageCheck = chunkDigests.map { .chunks($0, onMismatch: .reject) } ?? .digest(hasher)
            refetch += try pipeline.run(source: slotSource, range: 0..<resumeOffset, check: check, payloadHasher: payloadHasher,
                                        writer: nil, observers: .init(progress: { meter.update($0) }))
            meter.update(resumeOffset, force: true)
        }

        let writer = try SlotWriter(slot: confirmedTarget, on: pair.disk, directIO: options.directIO)
        let meter = ProgressMeter(phase: .writing, startOffset: resumeOffset, total: manifest.imageSize, report: progress)
        let checkpointPath = store?.path ?? ""
        // The block file, when one is published beside the bundle: the fetched blocks compressed.
        var blockFileRefusal: String?
        let compressed: CompressedBlocks? = plan.flatMap { plan in
            do throws(CompressedBlocks.Unusable) {
                return try CompressedBlocks(file: source.companion(BlockFileHeader.fileSuffix), layout: plan.layout,
                                            imageSHA256: manifest.imageSHA256)
            } catch {
                blockFileRefusal = error.reason
                return nil
            }
        }
        let deltaSource = try plan.map {
            try DeltaSource(plan: $0, seedPath: pair.disk.path, seedExtent: pair[booted.slot.name].extent, bundle: source,
                            imageOffset: preamble.header.imageOffset, compressed: compressed)
        }
        // A delta's bytes come from the booted slot, so a chunk that does not prove out is
        // fetched again rather than fatal; a full install's come from the bundle alone.
        let check: StreamPipeline.ImageCheck = chunkDigests.map { .chunks($0, onMismatch: deltaSource == nil ? .fail : .reject) }
            ?? .digest(hasher)
        refetch += try pipeline.run(
            source: deltaSource ?? imageSource, range: resumeOffset..<manifest.imageSize, check: check, payloadHasher: payloadHasher,
            writer: writer,
            observers: .init(
                progress: { meter.update($0) },
                sliceProgress: { meter.updateWithinChunk($0) },
                durable: { offset in
                    guard let store else { return }
                    var checkpoint = identity
                    checkpoint.offset = offset
                    do { try store.save(checkpoint) } catch {
                        throw InstallError.checkpoint(path: checkpointPath, detail: "\(error)")
                    }
                },
                durableInterval: options.checkpointInterval))
        let refetchedBytes = try refetchChunks(refetch, digests: chunkDigests, from: imageSource, writer: writer)
        meter.update(manifest.imageSize, force: true)

        // Format 3 proved every chunk against the signed table before writing it; formats 1
        // and 2 prove the whole image here, before it can boot.
        let digest = hasher.finalize()
        guard chunkDigests != nil || digest == manifest.imageSHA256 else {
            // The slot's contents are wrong from some point on; the next attempt starts over.
            try removeCheckpoint(store)
            throw InstallError.hashMismatch(expected: hexString(manifest.imageSHA256), actual: hexString(digest))
        }

        // The slot is still invalidated: a kernel in place beside an image that is not yet
        // bootable is harmless, and the flip below comes only after both.
        try artifacts.install(from: imageSource, pipeline: pipeline, payloadHasher: payloadHasher)

        let payloadDigest = payloadHasher?.finalize()
        if let expected = options.expectedPayload, let payloadDigest, payloadDigest != expected.sha256 {
            // The image is the signed one, yet the file is not the one the server announced:
            // the server, or something between it and us, is wrong, and its word was part of
            // the deal. Resuming would only reach the same verdict, so the checkpoint goes.
            try removeCheckpoint(store)
            throw InstallError.payloadHashMismatch(expected: expected.sha256Base64, actual: base64String(payloadDigest))
        }

        if options.verifyReadback {
            let meter = ProgressMeter(phase: .verifying, startOffset: 0, total: manifest.imageSize, report: progress)
            if let chunkDigests {
                do {
                    let source = try FileRangeSource(path: booted.pair.disk.path, baseOffset: confirmedTarget.extent.offset,
                                                     directIO: options.directIO)
                    try pipeline.run(source: source, range: 0..<manifest.imageSize, check: .chunks(chunkDigests),
                                     writer: nil, observers: .init(progress: { meter.update($0) }))
                } catch let StreamError.chunkMismatch(chunk, range) {
                    try removeCheckpoint(store)
                    throw InstallError.readbackChunkMismatch(chunk: chunk, range: range)
                }
            } else {
                let stored = try hashSlot(confirmedTarget, size: manifest.imageSize, progress: { meter.update($0) })
                guard stored == manifest.imageSHA256 else {
                    try removeCheckpoint(store)
                    throw InstallError.readbackMismatch(expected: hexString(manifest.imageSHA256), actual: hexString(stored))
                }
            }
            meter.update(manifest.imageSize, force: true)
        }

        // The slot holds the proven image now: its record may be named.
        if let recorder {
            do {
                try recorder.commit()
                slotKeysRecording = .recorded(path: recorder.path)
            } catch {
                slotKeysRecording = .failed("naming \(recorder.path): \(error)")
            }
        }
        if options.activate {
            try control.setTrial(target.name, tries: options.trialTries)
        }
        try removeCheckpoint(store)
        return InstallResult(slot: target, manifest: manifest, signer: verified.signerKeyFile, resumedFrom: resumeOffset,
                             readbackVerified: options.verifyReadback, usedDirectIO: writer.usesDirectIO,
                             payloadSHA256: payloadDigest, activated: options.activate,
                             delta: deltaSource.map { delta in
                                 DeltaOutcome(blocksFromBootedSlot: plan?.blocksFound ?? 0, blocksOfZeros: plan?.blocksOfZeros ?? 0,
                                              bytesFetched: delta.bytesFetched + refetchedBytes,
                                              bytesDownloaded: delta.bytesDownloaded + refetchedBytes,
                                              blockFileRefusal: blockFileRefusal ?? delta.compressedRefusal,
                                              manyRangesRefusal: (source as? HTTPBundleSource)?.manyRangesRefusal,
                                              bootedSlotKeys: bootedKeys ?? .hashed(.absent))
                             },
                             chunksRefetched: refetch.count, slotKeys: slotKeysRecording)
    }

    /// Fetches `chunks` (ascending) whole from the bundle and writes them, each proven first;
    /// adjacent ones in one run. Returns the bytes fetched.
    private func refetchChunks(_ chunks: [Int], digests: ChunkDigests?, from source: ChunkSource,
                               writer: SlotWriter) throws -> UInt64 {
        guard let digests, let first = chunks.first else { return 0 }
        var fetched: UInt64 = 0
        var runStart = first, runEnd = first
        for chunk in chunks.dropFirst() + [Int.max] {
            if chunk == runEnd + 1 {
                runEnd = chunk
                continue
            }
            let range = digests.layout.chunkRange(runStart).lowerBound..<digests.layout.chunkRange(runEnd).upperBound
            try pipeline.run(source: source, range: range, check: .chunks(digests), writer: writer)
            fetched += range.upperBound - range.lowerBound
            runStart = chunk
            runEnd = chunk
        }
        return fetched
    }

    /// Puts a slot staged by an install with `activate` off on trial, once its first
    /// `imageSize` bytes are read again (with O_DIRECT when `options.directIO`) and still hash
    /// to `imageSHA256`, the verified image's digest (`InstallResult.manifest.imageSHA256`).
    /// Time passes between staging and activating, and anything may write the slot meanwhile:
    /// only what is there now counts. Returns the slot, now on trial with `options.trialTries`.
    public func activateStaged(slot name: SlotName, imageSize: UInt64, imageSHA256: [UInt8],
                               progress: @escaping @Sendable (InstallProgress) -> Void = { _ in }) throws(InstallError) -> Slot {
        do {
            let slot = booted.pair[name]
            guard name != booted.slot.name else {
                throw InstallError.targetIsBooted(slot: name.rawValue)
            }
            guard imageSize <= slot.partition.sizeInBytes else {
                throw InstallError.imageTooLarge(imageSize: imageSize, slot: name.rawValue, slotSize: slot.partition.sizeInBytes)
            }
            // Held from the read-back to the flag change, so that what was verified is what boots.
            let diskLock = try lockDisk()
            defer { withExtendedLifetime(diskLock) {} }
            let pair = try booted.pair.confirmed(target: name, booted: booted.slot)
            if let usage = pair.usage(of: slot) {
                throw InstallError.targetInUse(slot: name.rawValue, detail: usage)
            }
            let meter = ProgressMeter(phase: .verifying, startOffset: 0, total: imageSize, report: progress)
            let stored = try hashSlot(slot, size: imageSize, progress: { meter.update($0) })
            meter.update(imageSize, force: true)
            guard stored == imageSHA256 else {
                throw InstallError.stagedImageChanged(slot: name.rawValue, expected: hexString(imageSHA256),
                                                      actual: hexString(stored))
            }
            try BootControl(pair: pair, backend: try options.bootBackend(pair, false), holding: diskLock)
                .setTrial(name, tries: options.trialTries)
            return slot
        } catch {
            throw InstallError.wrap(error)
        }
    }

    /// SHA-256 of the first `size` bytes of `slot`, read through the pipeline (hash only), with
    /// O_DIRECT when allowed so that the device's contents are hashed, not the page cache's.
    private func hashSlot(_ slot: Slot, size: UInt64, progress: @escaping @Sendable (UInt64) -> Void) throws -> [UInt8] {
        let hasher = SHA256()
        let source = try FileRangeSource(path: booted.pair.disk.path,
                                         baseOffset: slot.extent.offset, directIO: options.directIO)
        try pipeline.run(source: source, range: 0..<size, check: .digest(hasher), writer: nil, observers: .init(progress: progress))
        return hasher.finalize()
    }

    /// A format 3 bundle's chunk digests, read after the signature was verified and proven
    /// against the table's signed SHA-256; nil for formats 1 and 2. Fed to `payloadHasher` too,
    /// since the table lies between the preamble and the image.
    private func readChunkTable(_ preamble: BundlePreamble, from source: BundleSource,
                                payloadHasher: SHA256?, blockKey: ((UInt64) -> Void)?) throws -> ChunkDigests? {
        guard let layout = preamble.manifest.chunkLayout, let chunking = preamble.manifest.chunking else { return nil }
        let header = preamble.header
        let reader = ChunkTableReader(layout: layout, tableSHA256: chunking.tableSHA256,
                                      regionLength: header.imageOffset - header.tableOffset,
                                      blockKey: blockKey)
        do {
            try source.readRegion(header.tableOffset..<header.imageOffset) { bytes in
                try reader.update(bytes)
                payloadHasher?.update(bytes)
            }
        } catch let error as StreamError where error != .cancelled {
            throw InstallError.sourceUnavailable(error)
        }
        return try reader.finish()
    }

    /// Every check that can be made before a byte is written. Returns the target slot.
    private func preflight(_ manifest: Manifest) throws -> Slot {
        guard manifest.compatible == options.host.compatible else {
            throw InstallError.incompatible(bundle: manifest.compatible, host: options.host.compatible)
        }
        if let required = manifest.minimumVersion {
            guard let running = options.host.version, OSVersion(running) >= OSVersion(required) else {
                throw InstallError.hostTooOld(required: required, running: options.host.version)
            }
        }
        let pair = booted.pair
        let target: Slot = switch options.slot {
        case .auto: pair[booted.slot.name.other]
        case .a: pair.a
        case .b: pair.b
        }
        guard target.name != booted.slot.name else {
            throw InstallError.targetIsBooted(slot: target.name.rawValue)
        }
        guard manifest.imageSize <= target.partition.sizeInBytes else {
            throw InstallError.imageTooLarge(imageSize: manifest.imageSize, slot: target.name.rawValue,
                                             slotSize: target.partition.sizeInBytes)
        }
        if let usage = pair.usage(of: target) {
            throw InstallError.targetInUse(slot: target.name.rawValue, detail: usage)
        }
        return target
    }

    private func removeCheckpoint(_ store: CheckpointStore?) throws {
        guard let store else { return }
        do { try store.remove() } catch {
            throw InstallError.checkpoint(path: store.path, detail: "\(error)")
        }
    }
}
