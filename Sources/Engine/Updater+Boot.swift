import Logging
import Slots
import Streaming
import Verification

extension Updater {
    /// Works out, once at start-up, what this boot is: compares the booted slot with what was
    /// expected before the reboot (a pending update, or a slot on trial) and records exactly
    /// one of a normal boot, a trial boot, or a fallback, with its reason. A fallback
    /// quarantines the version that failed.
    /// Nil, and nothing recorded, when the disk or its boot state could not be read: which slot
    /// booted, or what the bootloader did, is then unknown, and a wrong guess would quarantine a
    /// good version. (An ESP mounted after tandemd started, as with `nofail` in fstab, reads as
    /// no boot state at all: every slot would look marked bad.)
    @discardableResult
    public func assessBoot() -> BootReport? {
        guard let bootedSlot = self.booted else {
            log.error("cannot tell what this boot is (normal, trial or fallback): \(bootedEvidence)")
            return nil
        }
        if let problem = slotDisk.current.problem {
            log.warning("what this boot is (normal, trial or fallback) is decided once the boot state can be read: \(problem)")
            return nil
        }
        let booted = bootedSlot.slot.name.rawValue
        let report: BootReport = lock.locked {
            bootAssessed = true
            let flags = { (name: String) in self.table[bootedSlot.pair[SlotName(rawValue: name) ?? .a].partition.number] }
            var report = BootReport(kind: .normal, bootedSlot: booted, version: host.version, reason: nil, bootID: bootID,
                                    installBootID: nil, time: HostFacts.now(), message: "")
            // The update expected to boot now: installed during an earlier boot, or already
            // tried during an earlier boot that did not bless it.
            var expected: (slot: String, version: String, installBootID: String)?
            var restored = false
            let (pendingBefore, trialBefore) = (saved.pendingReboot, saved.trial)
            if let pending = saved.pendingReboot, pending.bootID != bootID {
                expected = (pending.slot, pending.version, pending.bootID)
                saved.pendingReboot = nil
            } else if let trial = saved.trial, trial.bootID != bootID {
                expected = (trial.slot, trial.version, trial.installBootID)
            } else if let interrupted = saved.transaction, interrupted.bootID != bootID, interrupted.targetSlot == booted,
                      let version = interrupted.version, interrupted.stageOnly != true {
                // A power cut after the install put its slot on trial but before it recorded its
                // end: the bootloader booted the slot, so this is that update's trial
                // (recoverInterruptedTransaction then settles the transaction).
                expected = (booted, version, interrupted.bootID)
            } else if let earlier = saved.lastBoot, earlier.bootID == bootID, !earlier.kind.isUnknown {
                // tandemd restarted during this boot: what it found at its first start stands.
                // A kind written by a newer tandemd is not trusted: this boot is assessed again.
                report = earlier
                restored = true
            }
            if let expected {
                let tried = flags(expected.slot)
                if expected.slot == booted, !tried.successful {
                    saved.trial = TrialBoot(slot: booted, version: expected.version, bootID: bootID,
                                            installBootID: expected.installBootID, since: HostFacts.now())
                    report.kind = .trial
                    report.version = expected.version
                    report.installBootID = expected.installBootID
                    report.message = "trial boot of version \(expected.version) in slot \(booted): it counts as good once "
                        + "boot-complete.target is reached (tandem-bless-boot.service) or after updatectl mark-good"
                } else if expected.slot == booted {
                    saved.trial = nil
                    report.message = "slot \(booted) runs version \(expected.version), already marked good"
                } else {
                    var reason: FallbackReason = if tried.priority == 0 {
                        .markedBad
                    } else if !tried.successful, tried.tries == 0 {
                        .triesExhausted
                    } else {
                        .notChosen
                    }
                    if reason == .triesExhausted, !slotHoldsInstalledImage(bootedSlot.pair[SlotName(rawValue: expected.slot) ?? .a], on: bootedSlot.pair.disk) {
                        reason = .verificationFailed
                    }
                    saved.trial = nil
                    report.kind = .fallback
                    report.version = expected.version
                    report.reason = reason
                    report.installBootID = expected.installBootID
                    report.message = "version \(expected.version) in slot \(expected.slot) did not boot (\(reason.rawValue)); "
                        + "the bootloader fell back to slot \(booted) (version \(host.version ?? "unknown")). Version "
                        + "\(expected.version) is quarantined: automatic updates skip it until a newer one appears "
                        + "(updatectl unquarantine \(expected.version) to allow it again)"
                    if reason == .notChosen {
                        // Not a failure: the slot is still armed, and its trial still to come.
                        (saved.pendingReboot, saved.trial) = (pendingBefore, trialBefore)
                        report.kind = .normal
                        report.reason = nil
                        report.message = "version \(expected.version) in slot \(expected.slot) is still waiting for its "
                            + "trial: the bootloader chose slot \(booted) this time (a choice in the boot menu?)"
                    } else {
                        saved.quarantine.removeAll { OSVersion($0.version) == OSVersion(expected.version) }
                        saved.quarantine.append(QuarantinedVersion(
                            version: expected.version, reason: reason, slot: expected.slot, bootID: bootID, time: HostFacts.now()))
                        // The update server hears of it with the next check (3/0, error 44).
                        saved.omaha.rollbackPending = true
                        saved.lastResult = ResultRecord(
                            transaction: "boot-" + String(bootID.prefix(8)), code: .fellBack, message: report.message,
                            version: expected.version, time: HostFacts.now(), bootID: bootID)
                    }
                }
            }
            if let recorded = recordedBoot, !restored {
                report.message += (report.message.isEmpty ? "" : "; ") + bootloaderRecord(recorded, booted: bootedSlot.slot.name, kind: report.kind)
            }
            if saved.omaha.alephVersion == nil { saved.omaha.alephVersion = host.version }
            // Remember what runs here, so that once the other slot is booted this one's version
            // is still known (it is the fallback, and `status` should say what it holds).
            if let version = host.version {
                let key = bootedSlot.slot.partition.uniqueGUID.description
                if saved.slotVersions[key]?.version != version {
                    saved.slotVersions[key] = InstalledImage(version: version, sha256: nil, time: HostFacts.now())
                }
            }
            if table.nextBoot() == nil, !report.message.contains("NO SLOT IS BOOTABLE") {
                report.kind = report.kind == .normal ? .noBootableSlot : report.kind
                report.message += (report.message.isEmpty ? "" : "; ") + "NO SLOT IS BOOTABLE: the next boot will fail. "
                    + "Mark the running slot good (updatectl mark-good) to make it bootable again"
            }
            saved.lastBoot = report
            do { try persistLocked() } catch { log.error("\(error)") }
            return report
        }
        let metadata: Logger.Metadata = [
            "boot": "\(report.kind.rawValue)", "slot": "\(report.bootedSlot)", "version": "\(report.version ?? "")",
            "reason": "\(report.reason?.rawValue ?? "")", "boot_id": "\(report.bootID)",
            "install_boot_id": "\(report.installBootID ?? "")",
        ]
        switch report.kind {
        case .normal: log.info("normal boot of slot \(booted)", metadata: metadata)
        case .trial, .blessed: log.notice("\(report.message)", metadata: metadata)
        case .fallback: log.error("\(report.message)", metadata: metadata)
        case .noBootableSlot: log.critical("\(report.message)", metadata: metadata)
        case .unknown: log.notice("\(report.message)", metadata: metadata)
        }
        notifyChanged()
        coordinator.bootAssessed(report.kind)
        // tandemd restarted while an update waits for its reboot: the way there resumes.
        if let pending = lock.locked({ pendingRebootLocked() }) { coordinator.updateReady(version: pending.version) }
        return report
    }

    /// What the bootloader's own record of this boot (grub-env's and systemd-boot's, not the GPT
    /// bits') adds to the assessment: a confirmation, or a contradiction worth a look. The
    /// assessment itself rests on the booted slot and the flags, as for every backend.
    private func bootloaderRecord(_ recorded: LastBoot, booted: SlotName, kind: BootReport.Kind) -> String {
        guard recorded.slot == booted else {
            log.error("the bootloader recorded booting slot \(recorded.slot.rawValue), but slot \(booted.rawValue) is running")
            return "the bootloader recorded booting slot \(recorded.slot.rawValue), not \(booted.rawValue): check its configuration"
        }
        switch (kind, recorded.consumedTry) {
        case (.trial, true): return "the bootloader counted this boot as a try of slot \(booted.rawValue)"
        case (.trial, false): return "the bootloader did not count this boot as a try of slot \(booted.rawValue)"
        default: return "the bootloader recorded booting slot \(booted.rawValue)"
                + (recorded.consumedTry ? ", using up one try" : "")
        }
    }

    /// A boot that could not be assessed at start-up, the disk being unreadable, is assessed once
    /// the disk can be read: before any flag change, so that a trial boot is known as one
    /// before it is blessed.
    func assessBootIfPending() {
        guard booted != nil else { return }
        // Claimed in one step, so that two callers cannot both assess.
        let claimed = lock.locked { () -> Bool in
            defer { bootAssessed = true }
            return !bootAssessed
        }
        guard claimed else { return }
        rereadTable()
        if assessBoot() == nil { lock.locked { bootAssessed = false } }
    }

    /// Whether `slot` still holds, byte for byte, the image tandemd installed and verified there
    /// (hashed again with O_DIRECT). True when nothing is recorded to compare with: no evidence
    /// of corruption is not evidence of it. Called with the lock held, once per fallback.
    private func slotHoldsInstalledImage(_ slot: Slot, on disk: Disk) -> Bool {
        guard let installed = saved.slotVersions[slot.partition.uniqueGUID.description],
              let expected = installed.sha256, let size = installed.size else { return true }
        let hasher = SHA256()
        do {
            let source = try FileRangeSource(path: disk.path, baseOffset: slot.extent.offset,
                                             directIO: configuration.directIO)
            try StreamPipeline().run(source: source, range: 0..<size, hasher: hasher, writer: nil)
        } catch {
            log.error("cannot re-read slot \(slot.name.rawValue) to verify it: \(error)")
            return false
        }
        return hexString(hasher.finalize()) == expected
    }

    /// The quarantine entry for `version`, if it failed to boot before.
    func quarantineEntryLocked(_ version: String) -> QuarantinedVersion? {
        saved.quarantine.first { OSVersion($0.version) == OSVersion(version) }
    }

    /// Lets automatic updates offer `version` again.
    public func unquarantine(_ version: String) throws(UpdaterError) -> String {
        let removed = lock.locked { () -> Bool in
            let before = saved.quarantine.count
            saved.quarantine.removeAll { OSVersion($0.version) == OSVersion(version) }
            guard saved.quarantine.count != before else { return false }
            do { try persistLocked() } catch { log.error("\(error)") }
            return true
        }
        guard removed else {
            let listed = status().quarantined.map(\.version)
            throw .invalidArgument("version \(version) is not quarantined"
                + (listed.isEmpty ? "; nothing is" : "; quarantined: " + listed.joined(separator: ", ")))
        }
        log.notice("version \(version) taken out of quarantine")
        notifyChanged()
        return "version \(version) is no longer quarantined: updates may install it again"
    }

    /// The trial guard: while the running slot is unproven, the other slot holds the only
    /// system known to boot, and must not be overwritten.
    func trialGuardRefusal() -> UpdaterError? {
        guard let booted else { return nil }
        let flags = lock.locked { table[booted.slot.partition.number] }
        guard !flags.successful else { return nil }
        let other = booted.slot.name.other.rawValue
        return .refused("slot \(booted.slot.name.rawValue), which is running, has not been proven good yet (\(flags)); "
            + "slot \(other) holds the only system known to boot, so it is not overwritten. Bless this boot first "
            + "(updatectl mark-good, which tandem-bless-boot.service runs at boot-complete.target), or use --force to "
            + "overwrite the fallback anyway")
    }

    /// Seconds to wait before marking `selector` good: what is left of the grace period,
    /// counted from the kernel's start, when it names the booted slot on trial; else 0.
    public func blessDelay(for selector: String) -> Double {
        guard let booted, let slot = try? resolveSlot(selector, booted: booted), slot.name == booted.slot.name else { return 0 }
        let onTrial = lock.locked { saved.trial?.slot == booted.slot.name.rawValue }
        guard onTrial, configuration.blessGraceSeconds > 0 else { return 0 }
        return max(0, Double(configuration.blessGraceSeconds) - HostFacts.uptime())
    }

    /// After the booted slot was marked good: a trial of it has succeeded.
    func recordBlessing() {
        let blessed: BootReport? = lock.locked {
            guard let trial = saved.trial, trial.slot == booted?.slot.name.rawValue else { return nil }
            saved.trial = nil
            let report = BootReport(
                kind: .blessed, bootedSlot: trial.slot, version: trial.version, reason: nil, bootID: bootID,
                installBootID: trial.installBootID, time: HostFacts.now(),
                message: "version \(trial.version) in slot \(trial.slot) proved itself and was marked good; "
                    + "the other slot may now be updated")
            saved.lastBoot = report
            do { try persistLocked() } catch { log.error("\(error)") }
            return report
        }
        if let blessed {
            log.notice("\(blessed.message)", metadata: ["boot": "blessed", "version": "\(blessed.version ?? "")"])
            // The server learns that the update completed (3/2) from the next check.
            scheduleSoon()
            coordinator.blessed()
        }
    }
}
