import Logging
import Slots
import Streaming
import Verification

extension Updater {
    /// Makes the image the download-only strategy staged bootable, on trial at the next reboot,
    /// after reading the slot back to prove it still holds exactly what was verified. Runs on a
    /// worker thread; returns the transaction id, and the end is announced as `.completed`.
    public func activate() throws(UpdaterError) -> String {
        try requireReadableDisk()
        guard let staged = book.state.staged else {
            throw .refused("nothing is staged: Strategy=download-only downloads updates into the other slot for "
                + "updatectl activate to enable; see updatectl status")
        }
        let slot = staged.slot
        guard let digest = bytes(fromHex: staged.sha256) else {
            throw .stagedRecordDamaged(slot: slot)
        }
        var record = TransactionRecord(
            id: HostFacts.transactionID(), source: "slot \(slot.rawValue) (staged)", startTime: clock.epochSeconds, bootID: bootID,
            slotChoice: SlotChoice(slot), verifyReadback: true, offer: staged.offer)
        record.version = staged.version
        record.imageSize = staged.size
        record.targetSlot = slot
        try begin(record, operation: .verifying, persisted: false) { [self, record] in
            runActivation(record, staged: staged, slot: slot, digest: digest)
        }
        log.info("activating staged version \(staged.version) in slot \(slot.rawValue)", metadata: ["transaction": "\(record.id)"])
        return record.id
    }

    private func runActivation(_ record: TransactionRecord, staged: StagedUpdate, slot: SlotName, digest: [UInt8]) {
        let booted: BootedSlot
        do {
            booted = try slotDisk.probe()
        } catch {
            return finish(record.id, code: .failed, message: "cannot activate version \(staged.version): \(error)")
        }
        let installer = Installer(booted: booted, trust: trust, options: installOptions(record))
        if let stop = runner.attach(installer, operation: nil) { return stopped(record.id, reason: stop) }
        do {
            _ = try installer.activateStaged(slot: slot, imageSize: staged.size, imageSHA256: digest, progress: { [self] report in
                runner.report(operation: nil, progress: ProgressReport(report))
                notifyChanged()
            })
        } catch .stream(.cancelled) {
            return stopped(record.id, reason: runner.stopReason ?? .cancelled(uid: nil))
        } catch {
            // What the slot holds is no longer what was staged.
            let effects: [HostEvent] = if case .stagedImageChanged = error { [.stagedDropped] } else { [] }
            return finish(record.id, code: .failed, message: "cannot activate version \(staged.version): \(error)",
                          effects: effects)
        }
        rereadTable()
        let activated = activation(slot: slot, version: staged.version, size: staged.size)
        if let offer = staged.offer, case var .omaha(settings) = refreshChannel() {
            settings.server = offer.server
            if let session = try? omahaSession(settings) { session.report(.installed, .onDemand) }
        }
        finish(record.id, code: .success,
               message: "activated version \(staged.version) in slot \(slot.rawValue) after verifying it again; it boots on "
                   + "trial at the next reboot: updatectl reboot", version: staged.version,
               effects: [.stagedDropped, activated])
        coordinator.updateReady(version: staged.version)
    }
}
