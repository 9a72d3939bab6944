import FoundationEssentials
import HTTP
import Logging
import Platform
import Slots
import Streaming
import Verification

/// What `Install` was asked to do.
public struct InstallRequest: Sendable, Equatable {
    /// A bundle path or URL; nil: the configured source, after checking that it offers something newer.
    public var source: String?
    public var slot: SlotChoice
    public var readback: ReadbackVerification
    /// Overrides the trial guard and the quarantine.
    public var force: Bool
    /// Download-only: write and verify, but leave the slot unbootable until `activate`.
    public var stageOnly: Bool
    /// Who asked, for the `installsource` of the server requests.
    public var trigger: CheckTrigger

    public init(source: String?, slot: SlotChoice = .auto, readback: ReadbackVerification = .configured, force: Bool = false,
                stageOnly: Bool = false, trigger: CheckTrigger = .onDemand) {
        self.source = source
        self.slot = slot
        self.readback = readback
        self.force = force
        self.stageOnly = stageOnly
        self.trigger = trigger
    }
}

extension Updater {
    /// Starts an install on a worker thread and returns its transaction id at once. Its end is
    /// announced as `.completed`, whatever happens.
    /// `offer` is what the update server said of the bundle at `request.source`, when it offered it.
    public func install(_ request: InstallRequest, offer: UpdateOffer? = nil) throws(UpdaterError) -> String {
        let source: String
        if let named = request.source {
            source = named
        } else {
            switch refreshChannel() {
            case .none: throw .noSource
            case let .disabled(setBy): throw .noUpdate("updates are disabled (\(setBy)); name a bundle to install one anyway")
            case let channel: source = channel.address
            }
        }
        try requireReadableDisk()
        if let refusal = trialGuardRefusal() {
            guard request.force else { throw refusal }
            log.warning("trial guard overridden (--force): overwriting the only known-good slot while the running one is unproven")
        }
        let record = TransactionRecord(
            id: HostFacts.transactionID(), source: source, startTime: clock.epochSeconds, bootID: bootID,
            slotChoice: request.slot, verifyReadback: request.readback.resolved(configured: configuration.verifyReadback),
            force: request.force, offer: offer, completion: request.stageOnly ? .staged : .trial, trigger: request.trigger)
        try begin(record, operation: request.source == nil ? .checking : .preparing, persisted: true) { [self] in
            runInstall(record, checkFirst: request.source == nil)
        }
        log.info("install started", metadata: ["transaction": "\(record.id)", "source": "\(source)"])
        return record.id
    }

    /// Looks for an update now, on a worker thread, without installing it; `completion` gets the
    /// answer there. A scheduled check then applies the strategy.
    public func check(_ trigger: CheckTrigger = .onDemand,
                      completion: @escaping @Sendable (Result<CheckResult, UpdaterError>) -> Void) throws(UpdaterError) {
        let channel = refreshChannel()
        if case .none = channel { throw UpdaterError.noSource }
        let record = TransactionRecord(
            id: HostFacts.transactionID(), source: channel.address, startTime: clock.epochSeconds, bootID: bootID,
            slotChoice: .auto, verifyReadback: configuration.verifyReadback)
        try begin(record, operation: .checking, persisted: false) { [self] in
            let result: Result<CheckFinding, CheckFailure>
            do throws(CheckFailure) {
                result = .success(try lookForUpdate(trigger, force: false))
            } catch {
                result = .failure(error)
            }
            runner.end()
            notifyChanged()
            rescheduleAfter(result)
            if trigger == .scheduled, case let .success(finding) = result { applyStrategy(to: finding) }
            completion(result.map(\.result).mapError(\.error))
        }
    }

    /// Stops the running transaction at the next chunk. The target slot stays invalidated; the
    /// booted slot is never touched. Returns the transaction's id.
    public func cancel(by uid: UInt32?) throws(UpdaterError) -> String {
        guard let id = runner.cancel(by: uid) else { throw .notBusy }
        log.notice("cancel requested", metadata: ["transaction": "\(id)", "uid": "\(uid.map(String.init) ?? "?")"])
        return id
    }

    /// For SIGTERM: stops a running install after checkpointing it, keeps the transaction for
    /// the next start, stops the reboot coordinator, and returns once both have finished.
    ///
    /// The stop is recorded before any waiting, so that the next start reports a stop, not a
    /// crash, even when tandemd exits before the worker does (`Daemon.stopBound`).
    public func shutdown() {
        let (worker, install) = runner.stopForShutdown()
        if let install {
            commitInBackground("the stop of transaction \(install)", .transactionStopped(at: clock.epochSeconds))
        }
        coordinator.stop()
        worker?.join()
    }

    /// Deals with a transaction that a crash, a kill or a stop left behind: reports exactly
    /// what happened, then resumes it if so configured.
    public func recoverInterruptedTransaction() {
        guard let interrupted = book.state.transaction else { return }
        if let target = interrupted.targetSlot, target == booted?.slot.name {
            settleTransactionThatBooted(interrupted, slot: target)
            return
        }
        let checkpoint = CheckpointStore(stateDirectory: configuration.stateDirectory).load()
        let cause = if interrupted.stoppedAt != nil {
            "tandemd was stopped"
        } else if interrupted.bootID != bootID {
            "the machine restarted (power loss or reset)"
        } else {
            "tandemd crashed or was killed"
        }
        let what = interrupted.version.map { "version \($0)" } ?? "a bundle"
        var saving = "nothing was checkpointed"
        if let checkpoint, checkpoint.source == interrupted.source || checkpoint.version == interrupted.version {
            saving = "\(checkpoint.offset) of \(checkpoint.imageSize) bytes were safely written"
        }
        let resume = configuration.resumeInterrupted
        let next = resume ? "resuming" : "run updatectl update \(interrupted.source) to resume"
        let message = "\(cause) during transaction \(interrupted.id), installing \(what) from \(interrupted.source); "
            + "\(saving); \(interrupted.targetSlot.map { "slot \($0.rawValue) was left unbootable" } ?? "no slot was changed"); \(next)"
        let result = ResultRecord(transaction: interrupted.id, code: .interrupted, message: message,
                                  version: interrupted.version ?? "", time: clock.epochSeconds, bootID: bootID)
        // Not recorded: the record stays, and the next start reports it again.
        commitInBackground("the end of interrupted transaction \(interrupted.id)", .transactionEnded(result))
        log.warning("\(message)", metadata: ["transaction": "\(interrupted.id)"])
        notify(.completed(result))
        guard resume else { return }
        // A resume writes the slot that is not running, like any install: while the running slot
        // is unproven, that slot holds the only system known to boot.
        if !interrupted.force, let refusal = trialGuardRefusal() {
            log.error("the interrupted install is not resumed: \(refusal)", metadata: ["transaction": "\(interrupted.id)"])
            return
        }
        do {
            _ = try resumeTransaction(interrupted)
        } catch {
            log.error("cannot resume: \(error)")
        }
    }

    /// An interrupted transaction whose slot is the one running: the install had put the slot on
    /// trial (only a verified image is), and the machine restarted into it before the end was
    /// recorded. Nothing is left to do, and resuming would overwrite the other slot, the fallback.
    private func settleTransactionThatBooted(_ interrupted: TransactionRecord, slot name: SlotName) {
        let slot = name.rawValue
        let version = interrupted.version ?? ""
        let message = "the machine restarted during transaction \(interrupted.id) after it had put version \(version) in "
            + "slot \(slot) on trial, before tandemd recorded the end of the install; slot \(slot) is running it now, "
            + "so nothing is resumed"
        let result = ResultRecord(transaction: interrupted.id, code: .success, message: message, version: version,
                                  time: clock.epochSeconds, bootID: bootID)
        guard commitInBackground("the end of interrupted transaction \(interrupted.id)", .transactionEnded(result)) else { return }
        // Its checkpoint names the running slot, so it could never be resumed from again.
        try? CheckpointStore(stateDirectory: configuration.stateDirectory).remove()
        log.notice("\(message)", metadata: ["transaction": "\(interrupted.id)"])
        notify(.completed(result))
    }

    /// Continues an interrupted install with everything it was started with: the server's
    /// offer (size, digest, events), download-only, and who started it.
    private func resumeTransaction(_ interrupted: TransactionRecord) throws(UpdaterError) -> String {
        var record = interrupted
        record.id = HostFacts.transactionID()
        record.startTime = clock.epochSeconds
        record.bootID = bootID
        record.stoppedAt = nil
        try begin(record, operation: .preparing, persisted: true) { [self, record] in
            runInstall(record, checkFirst: false)
        }
        log.info("install resumed", metadata: ["transaction": "\(record.id)", "source": "\(record.source)"])
        return record.id
    }

    func begin(_ record: TransactionRecord, operation first: UpdateOperation, persisted: Bool,
                       work: @escaping @Sendable () -> Void) throws(UpdaterError) {
        // Claimed first, so that no second transaction starts while this one's record is written.
        try runner.claim(record, isCheck: !persisted, operation: first)
        if persisted {
            do throws(UpdaterError) {
                try commitByCaller(.transactionRecorded(record))
            } catch {
                runner.end()
                throw error
            }
        }
        runner.start(work)
        notifyChanged()
    }

    var httpOptions: HTTPOptions {
        HTTPOptions(caBundle: configuration.caBundle, connectTimeoutSeconds: configuration.connectTimeoutSeconds)
    }

    func installOptions(_ record: TransactionRecord) -> InstallOptions {
        var options = InstallOptions(host: host)
        options.slot = record.slotChoice
        options.verifyReadback = record.verifyReadback
        options.stateDirectory = configuration.stateDirectory
        options.checkpointInterval = configuration.checkpointInterval
        options.trialTries = configuration.trialTries
        options.http = httpOptions
        options.directIO = configuration.directIO
        options.activate = record.completion == .trial
        options.bootBackend = slotDisk.bootBackend
        if let offer = record.offer, let digest = Data(base64Encoded: offer.sha256) {
            options.expectedPayload = PayloadExpectation(size: offer.size, sha256: [UInt8](digest), version: offer.version)
        }
        return options
    }

    private func runInstall(_ record: TransactionRecord, checkFirst: Bool) {
        var record = record
        if checkFirst {
            let found: CheckFinding
            do throws(CheckFailure) {
                found = try lookForUpdate(record.trigger, force: record.force)
                rescheduleAfter(.success(found))
            } catch {
                rescheduleAfter(.failure(error))
                let code: ResultCode = if case .noUpdate = error.error { .noUpdate } else { .failed }
                return finish(record.id, code: code, message: error.error.description)
            }
            guard found.result.available, let source = found.installSource else {
                return finish(record.id, code: .noUpdate, message: found.result.message)
            }
            record.source = source
            record.offer = found.offer
            do throws(UpdaterError) {
                // Before anything is written: a restart must know what to resume, and from where.
                try commitByCaller(.transactionRecorded(record))
            } catch {
                return finish(record.id, code: .failed, message: "cannot install version \(found.result.version): \(error); nothing was written")
            }
            runner.updateRecord { [record] in $0 = record }
        }
        let session = record.offer.flatMap(eventSession)
        let trigger = record.trigger
        session?.report(.downloadStarted, trigger.installSource)
        // Probed again now: the disk may have been repaired or replaced since tandemd started.
        let booted: BootedSlot
        do {
            booted = try slotDisk.probe()
        } catch {
            session?.report(.failed(.error), trigger.installSource)
            return finish(record.id, code: .failed, message: "cannot install: \(error); nothing was written")
        }
        let installer = Installer(booted: booted, trust: trust, options: installOptions(record))
        // The install is about to write the slot a pending (or staged) update sits in: that update is gone.
        do throws(UpdaterError) {
            try commitByCaller(.targetWillBeWritten)
        } catch {
            session?.report(.failed(.error), trigger.installSource)
            return finish(record.id, code: .failed, message: "cannot install: \(error); nothing was written")
        }
        let stop = runner.attach(installer, operation: .preparing)
        notifyChanged()
        if let stop { return stopped(record.id, reason: stop) }
        do {
            let result = try installer.install(record.source, progress: { [self] report in
                runner.report(operation: UpdateOperation(report.phase), progress: ProgressReport(report))
                notifyChanged()
            }, accepted: { [self, force = record.force == true] manifest, slot throws(InstallError) in
                switch book.state.quarantine.verdict(for: manifest.version, force: force) {
                case .allowed: break
                case let .overridden(entry):
                    log.warning("installing quarantined version \(manifest.version) (--force); it failed to boot before (\(entry.reason.displayText))")
                case let .refused(entry):
                    throw .declined(Quarantine.installRefusal(entry))
                }
                let verified = runner.updateRecord { record in
                    record.version = manifest.version
                    record.imageSize = manifest.imageSize
                    record.targetSlot = slot.name
                }
                do throws(StateError) {
                    // Before the slot is written: a restart must know which slot the install invalidated.
                    if let verified { try book.commit(.transactionRecorded(verified)) }
                } catch {
                    throw .declined("cannot record which slot the install writes: \(error); nothing was written")
                }
                log.info("bundle verified", metadata: ["version": "\(manifest.version)", "slot": "\(slot.name.rawValue)"])
                notifyChanged()
            })
            session?.report(.downloadFinished, trigger.installSource)
            if result.activated { session?.report(.installed, trigger.installSource) }
            succeed(record, result)
        } catch .stream(.cancelled) {
            let reason = runner.stopReason ?? .cancelled(uid: nil)
            if reason != .shutdown { session?.report(.failed(.error), trigger.installSource) }
            stopped(record.id, reason: reason)
        } catch {
            session?.report(.failed(error.omahaCode), trigger.installSource)
            let reported = session.map { " (reported to \($0.settings.server) as error \(error.omahaCode))" } ?? ""
            finish(record.id, code: .failed, message: error.description + reported + privateTemporaryHint(record.source))
        }
    }

    /// The session that reports an offered install's events to the server that offered it.
    private func eventSession(for offer: UpdateOffer) -> OmahaSession? {
        guard case var .omaha(settings) = refreshChannel() else { return nil }
        settings.server = offer.server
        do {
            return try omahaSession(settings)
        } catch {
            log.warning("the update server will not hear how this install goes: \(error.error)")
            return nil
        }
    }

    /// The service's /tmp and /var/tmp are its own (PrivateTmp=yes): a bundle the caller put
    /// there does not exist for tandemd, which deserves more than "no such file".
    private func privateTemporaryHint(_ source: String) -> String {
        guard source.hasPrefix("/tmp/") || source.hasPrefix("/var/tmp/"), !FileManager.default.fileExists(atPath: source) else {
            return ""
        }
        return "; if the bundle is there for you, note that tandemd has a private /tmp and /var/tmp (PrivateTmp=yes in "
            + "tandemd.service): move it elsewhere, such as /var/lib/tandem, and retry"
    }

    private func succeed(_ record: TransactionRecord, _ result: InstallResult) {
        runner.set(operation: .finalizing)
        notifyChanged()
        rereadTable()
        let version = result.manifest.version
        let slot = result.slot.name
        let resumed = result.resumedFrom > 0 ? " (resumed after \(result.resumedFrom) bytes already written)" : ""
        let checked = record.offer.map { offer in
            result.delta == nil
                ? " and matched the update server's size and SHA-256 (\(offer.server))"
                // A delta downloads part of the file: no whole-file digest to compare.
                : " and matched the update server's size and version (\(offer.server)); as a delta, every chunk was proven "
                    + "against the signed chunk table in place of the file's SHA-256"
        } ?? ""
        let delta = result.delta.map {
            " as a delta: \($0.blocksFromBootedSlot) blocks copied from the booted slot, \($0.blocksOfZeros) of zeros written, "
                + "\($0.bytesFetched) image bytes fetched "
                + "as \($0.bytesDownloaded) downloaded (the booted slot's block keys \($0.bootedSlotKeys))"
        } ?? ""
        if case let .failed(detail) = result.slotKeys {
            log.warning("slot \(result.slot.name.rawValue)'s block keys were not recorded (\(detail)); a delta from it will hash it")
        }
        let message = result.activated
            ? "installed version \(version) into slot \(slot.rawValue)\(delta)\(resumed)\(checked); it boots on trial at the next reboot: updatectl reboot"
            : "downloaded and verified version \(version) into slot \(slot.rawValue)\(delta)\(resumed)\(checked); it stays unbootable until "
                + "updatectl activate"
        let installed = InstalledImage(version: version, sha256: hexString(result.manifest.imageSHA256),
                                       size: result.manifest.imageSize, time: clock.epochSeconds)
        let outcome: HostEvent = if result.activated {
            activation(slot: slot, version: version, size: result.manifest.imageSize)
        } else {
            .staged(StagedUpdate(slot: slot, version: version, size: result.manifest.imageSize,
                                 sha256: hexString(result.manifest.imageSHA256), time: clock.epochSeconds, offer: record.offer))
        }
        finish(record.id, code: .success, message: message, version: version,
               effects: [.imageWritten(partitionUUID: result.slot.partition.uniqueGUID.description, image: installed), outcome])
        if result.activated { coordinator.updateReady(version: version) }
    }

    /// The slot is on trial: an update waits for the reboot, and the server will hear which
    /// version it replaced (update_engine's previous-version).
    func activation(slot: SlotName, version: String, size: UInt64) -> HostEvent {
        let pending = PendingReboot(slot: slot, version: version, imageSize: size, bootID: bootID, time: clock.epochSeconds)
        return .activated(pending, previousVersion: requestVersion)
    }

    func stopped(_ id: String, reason: TransactionRunner.StopReason) {
        switch reason {
        case .shutdown:
            // Not the end of the transaction: the next start resumes it.
            let now = clock.epochSeconds
            // Not recorded: the next start calls it a crash instead of a stop; it resumes all the same.
            commitInBackground("the stop of transaction \(id)", .transactionStopped(at: now))
            runner.end()
            log.notice("install stopped for shutdown; it resumes when tandemd starts", metadata: ["transaction": "\(id)"])
            notifyChanged()
        case let .cancelled(uid):
            let target = runner.snapshot.record?.targetSlot
            let who = uid.map { " by uid \($0)" } ?? ""
            let slotNote = target.map { "slot \($0.rawValue) was left unbootable" } ?? "no slot was changed"
            let bootedNote = booted.map { "the booted slot \($0.slot.name.rawValue)" } ?? "the booted slot"
            finish(id, code: .cancelled, message: "cancelled\(who); \(slotNote); \(bootedNote) was not touched")
        }
    }

    /// Ends the running transaction: records the result, with what else it changed (`effects`), in
    /// one commit; clears the transaction and tells the observer.
    ///
    /// When the record cannot be written, memory stays as the disk has it (the transaction still
    /// recorded, so the next start reports it as interrupted) and the result says so.
    func finish(_ id: String, code: ResultCode, message: String, version: String? = nil,
                effects: [HostEvent] = []) {
        rereadTable()
        let version = version ?? runner.snapshot.record?.version ?? ""
        var record = ResultRecord(transaction: id, code: code, message: message, version: version, time: clock.epochSeconds,
                                  bootID: bootID)
        do throws(StateError) {
            try book.commit(.transactionEnded(record, effects: effects))
        } catch {
            record.code = .failed
            record.message = message + "; but tandemd could not record the end of the transaction (it is reported as "
                + "interrupted at the next start): \(error)"
        }
        runner.end()
        let result = record
        if result.code == .success || result.code == .noUpdate {
            log.info("\(result.message)", metadata: ["transaction": "\(id)", "result": "\(result.code.name)"])
        } else {
            log.error("\(result.message)", metadata: ["transaction": "\(id)", "result": "\(result.code.name)"])
        }
        notify(.completed(result))
        notifyChanged()
    }
}
