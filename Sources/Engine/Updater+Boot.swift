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
        let saved = book.state
        var inputs = cache.withLock { cache in
            cache.bootAssessed = true
            return BootAssessment.Inputs(saved: saved, table: cache.table, booted: bootedSlot, bootID: bootID,
                                         hostVersion: host.version, recordedBoot: cache.recordedBoot, now: clock.epochSeconds)
        }
        // The slow part, outside any lock: queries and marks go on while a whole slot is hashed.
        let intact = BootAssessment.slotToVerify(inputs).map { slotHoldsInstalledImage($0, on: bootedSlot.pair.disk, saved: inputs.saved) } ?? true
        if let recorded = inputs.recordedBoot, recorded.slot != bootedSlot.slot.name {
            log.error("the bootloader recorded booting slot \(recorded.slot.rawValue), but slot \(booted) is running")
        }
        let report: BootReport
        do {
            report = try book.commit { state in
                // Assessed on the state as it is now: another commit may have come in meanwhile.
                inputs.saved = state
                let (report, next) = BootAssessment.assess(inputs, fallbackSlotIntact: intact)
                state = next
                return report
            }
        } catch {
            log.error("this boot was assessed, but the assessment could not be recorded; it is made again: \(error)")
            return nil
        }
        let metadata: Logger.Metadata = [
            "boot": "\(report.kind.rawValue)", "slot": "\(report.bootedSlot.rawValue)", "version": "\(report.version ?? "")",
            "reason": "\(report.reason?.displayText ?? "")", "boot_id": "\(report.bootID)",
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
        if let pending = pendingReboot(book.state) { coordinator.updateReady(version: pending.version) }
        return report
    }

    /// A boot that could not be assessed at start-up, the disk being unreadable, is assessed once
    /// the disk can be read: before any flag change, so that a trial boot is known as one
    /// before it is blessed.
    func assessBootIfPending() {
        guard booted != nil else { return }
        // Claimed in one step, so that two callers cannot both assess.
        let claimed = cache.withLock { cache -> Bool in
            defer { cache.bootAssessed = true }
            return !cache.bootAssessed
        }
        guard claimed else { return }
        rereadTable()
        if assessBoot() == nil { cache.withLock { $0.bootAssessed = false } }
    }

    /// Whether `slot` still holds, byte for byte, the image tandemd installed and verified there
    /// (hashed again with O_DIRECT). True when nothing is recorded to compare with: no evidence
    /// of corruption is not evidence of it. Called without any lock held, once per fallback.
    private func slotHoldsInstalledImage(_ slot: Slot, on disk: Disk, saved: DaemonState) -> Bool {
        guard let installed = saved.slotVersions[slot.partition.uniqueGUID.description],
              let expected = installed.sha256, let size = installed.size else { return true }
        let hasher = SHA256()
        do {
            let source = try FileRangeSource(path: disk.path, baseOffset: slot.extent.offset,
                                             directIO: configuration.directIO)
            try StreamPipeline().run(source: source, range: 0..<size, check: .digest(hasher), writer: nil)
        } catch {
            log.error("cannot re-read slot \(slot.name.rawValue) to verify it: \(error)")
            return false
        }
        return hexString(hasher.finalize()) == expected
    }

    /// Lets automatic updates offer `version` again.
    public func unquarantine(_ version: String) throws(UpdaterError) -> String {
        let removed: Bool
        do {
            removed = try book.commit { state in
                let before = state
                state = state.applying(.unquarantined(version: version))
                return state != before
            }
        } catch {
            throw .state(error)
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
        let flags = cache.withLock { $0.table[booted.slot.partition.number] }
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
        let onTrial = book.state.trial?.slot == booted.slot.name
        guard onTrial, configuration.blessGraceSeconds > 0 else { return 0 }
        return max(0, Double(configuration.blessGraceSeconds) - HostFacts.uptime())
    }

    /// After the booted slot was marked good: a trial of it has succeeded. Throws when that could
    /// not be recorded (the mark itself is done).
    func recordBlessing() throws(UpdaterError) {
        let slot = booted?.slot.name
        let (bootID, now) = (bootID, clock.epochSeconds)
        guard let slot else { return }
        let blessed: BootReport?
        do {
            blessed = try book.commit { state in
                let before = state
                state = state.applying(.blessed(slot: slot, bootID: bootID, now: now))
                return state != before ? state.lastBoot : nil
            }
        } catch {
            throw .state(error)
        }
        if let blessed {
            log.notice("\(blessed.message)", metadata: ["boot": "blessed", "version": "\(blessed.version ?? "")"])
            // The server learns that the update completed (3/2) from the next check.
            scheduleSoon()
            coordinator.blessed()
        }
    }
}
