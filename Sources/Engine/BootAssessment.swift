import Slots
import Verification

/// What a boot is (normal, trial, fallback with its reason, no bootable slot), worked out from
/// what was expected before the reboot and what the bootloader did: a pure function of its
/// inputs, so that every outcome is tested without a disk, a bus or a clock.
///
/// The one slow fact, whether a slot that used up its tries still holds the image installed
/// there (a whole-slot re-hash), is found by the caller before `assess`, outside any lock:
/// `slotToVerify` names the slot, and `assess` takes the answer.
enum BootAssessment {
    /// Everything `assess` looks at.
    struct Inputs {
        var saved: DaemonState
        /// The boot flags as read at this boot.
        var table: BootTable
        var booted: BootedSlot
        var bootID: String
        /// The version running now; nil when unknown.
        var hostVersion: String?
        /// What the bootloader recorded of this boot (grub-env, systemd-boot); nil for the GPT bits.
        var recordedBoot: LastBoot?
        var now: Int64
    }

    /// The update this boot was expected to run, installed during `installBootID`.
    struct Expected: Equatable {
        var slot: SlotName
        var version: String
        var installBootID: String
    }

    /// The update expected to boot now: installed during an earlier boot, or already tried during
    /// an earlier boot that did not bless it; or, when tandemd restarted during this boot, the
    /// report its first start made (which stands).
    static func expectation(_ inputs: Inputs) -> (expected: Expected?, restored: BootReport?) {
        let saved = inputs.saved
        let booted = inputs.booted.slot.name
        if let pending = saved.pendingReboot, pending.bootID != inputs.bootID {
            return (Expected(slot: pending.slot, version: pending.version, installBootID: pending.bootID), nil)
        }
        if let trial = saved.trial, trial.bootID != inputs.bootID {
            return (Expected(slot: trial.slot, version: trial.version, installBootID: trial.installBootID), nil)
        }
        if let interrupted = saved.transaction, interrupted.bootID != inputs.bootID, interrupted.targetSlot == booted,
           let version = interrupted.version, interrupted.completion == .trial {
            // A power cut after the install put its slot on trial but before it recorded its
            // end: the bootloader booted the slot, so this is that update's trial
            // (recoverInterruptedTransaction then settles the transaction).
            return (Expected(slot: booted, version: version, installBootID: interrupted.bootID), nil)
        }
        if let earlier = saved.lastBoot, earlier.bootID == inputs.bootID, !earlier.kind.isUnknown {
            // A kind written by a newer tandemd is not trusted: this boot is assessed again.
            return (nil, earlier)
        }
        return (nil, nil)
    }

    /// Why the expected slot did not boot, from its flags alone; nil when it did boot.
    static func fallbackReason(_ expected: Expected, _ inputs: Inputs) -> FallbackReason? {
        guard expected.slot != inputs.booted.slot.name else { return nil }
        let tried = inputs.table[inputs.booted.pair[expected.slot].partition.number]
        if tried.priority == 0 { return .markedBad }
        if !tried.successful, tried.tries == 0 { return .triesExhausted }
        return .notChosen
    }

    /// The slot whose bytes must be hashed again before `assess`: the one that used up its tries,
    /// which may be because its image was corrupted (`verificationFailed`). Nil: none needs it.
    static func slotToVerify(_ inputs: Inputs) -> Slot? {
        guard let expected = expectation(inputs).expected, fallbackReason(expected, inputs) == .triesExhausted else {
            return nil
        }
        return inputs.booted.pair[expected.slot]
    }

    /// The report of this boot and the state to commit.
    /// `fallbackSlotIntact`: whether `slotToVerify`'s slot still holds its installed image
    /// (true when there was none to verify, or nothing recorded to compare with).
    static func assess(_ inputs: Inputs, fallbackSlotIntact: Bool) -> (report: BootReport, state: DaemonState) {
        var saved = inputs.saved
        let booted = inputs.booted.slot.name
        let bootID = inputs.bootID
        var report = BootReport(kind: .normal, bootedSlot: booted, version: inputs.hostVersion, reason: nil,
                                bootID: bootID, installBootID: nil, time: inputs.now, message: "")
        let (expected, restored) = expectation(inputs)
        if let restored { report = restored }
        if let expected {
            if saved.pendingReboot?.bootID != bootID { saved.pendingReboot = nil }
            let tried = inputs.table[inputs.booted.pair[expected.slot].partition.number]
            if var reason = fallbackReason(expected, inputs) {
                if reason == .triesExhausted, !fallbackSlotIntact { reason = .verificationFailed }
                report.version = expected.version
                report.installBootID = expected.installBootID
                if reason == .notChosen {
                    // Not a failure: the slot is still armed, and its trial still to come.
                    saved.pendingReboot = inputs.saved.pendingReboot
                    report.message = "version \(expected.version) in slot \(expected.slot.rawValue) is still waiting for its "
                        + "trial: the bootloader chose slot \(booted.rawValue) this time (a choice in the boot menu?)"
                } else {
                    saved.trial = nil
                    report.kind = .fallback
                    report.reason = reason
                    report.message = "version \(expected.version) in slot \(expected.slot.rawValue) did not boot "
                        + "(\(reason.displayText)); the bootloader fell back to slot \(booted.rawValue) (version "
                        + "\(inputs.hostVersion ?? "unknown")). Version \(expected.version) is quarantined: automatic "
                        + "updates skip it until a newer one appears (updatectl unquarantine \(expected.version) to allow it again)"
                    saved.quarantine.add(QuarantinedVersion(
                        version: expected.version, reason: reason, slot: expected.slot, bootID: bootID, time: inputs.now))
                    // The update server hears of it with the next check (3/0, error 44).
                    saved.omaha.rollbackPending = true
                    saved.lastResult = ResultRecord(
                        transaction: "boot-" + String(bootID.prefix(8)), code: .fellBack, message: report.message,
                        version: expected.version, time: inputs.now, bootID: bootID)
                }
            } else if !tried.successful {
                saved.trial = TrialBoot(slot: booted, version: expected.version, bootID: bootID,
                                        installBootID: expected.installBootID, since: inputs.now)
                report.kind = .trial
                report.version = expected.version
                report.installBootID = expected.installBootID
                report.message = "trial boot of version \(expected.version) in slot \(booted.rawValue): it counts as good "
                    + "once boot-complete.target is reached (tandem-bless-boot.service) or after updatectl mark-good"
            } else {
                saved.trial = nil
                report.message = "slot \(booted.rawValue) runs version \(expected.version), already marked good"
            }
        }
        if let recorded = inputs.recordedBoot, restored == nil {
            report.message += (report.message.isEmpty ? "" : "; ") + bootloaderRecord(recorded, booted: booted, kind: report.kind)
        }
        if saved.omaha.alephVersion == nil { saved.omaha.alephVersion = inputs.hostVersion }
        // Remember what runs here, so that once the other slot is booted this one's version
        // is still known (it is the fallback, and `status` should say what it holds).
        if let version = inputs.hostVersion {
            let key = inputs.booted.slot.partition.uniqueGUID.description
            if saved.slotVersions[key]?.version != version {
                saved.slotVersions[key] = InstalledImage(version: version, sha256: nil, time: inputs.now)
            }
        }
        // A report restored from this boot's first start already carries the warning if it applied then.
        if inputs.table.nextBoot() == nil, restored == nil || report.kind == .normal {
            report.kind = report.kind == .normal ? .noBootableSlot : report.kind
            report.message += (report.message.isEmpty ? "" : "; ") + noBootableSlotWarning
        }
        saved.lastBoot = report
        return (report, saved)
    }

    static let noBootableSlotWarning = "NO SLOT IS BOOTABLE: the next boot will fail. "
        + "Mark the running slot good (updatectl mark-good) to make it bootable again"

    /// What the bootloader's own record of this boot (grub-env's and systemd-boot's, not the GPT
    /// bits') adds to the assessment: a confirmation, or a contradiction worth a look. The
    /// assessment itself rests on the booted slot and the flags, as for every backend.
    static func bootloaderRecord(_ recorded: LastBoot, booted: SlotName, kind: BootReport.Kind) -> String {
        guard recorded.slot == booted else {
            return "the bootloader recorded booting slot \(recorded.slot.rawValue), not \(booted.rawValue): check its configuration"
        }
        switch (kind, recorded.consumedTry) {
        case (.trial, true): return "the bootloader counted this boot as a try of slot \(booted.rawValue)"
        case (.trial, false): return "the bootloader did not count this boot as a try of slot \(booted.rawValue)"
        default: return "the bootloader recorded booting slot \(booted.rawValue)"
                + (recorded.consumedTry ? ", using up one try" : "")
        }
    }
}
