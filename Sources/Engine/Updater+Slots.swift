import Slots

extension Updater {
    /// Refuses at once, with the disk's problem, what needs the disk when it cannot be probed now.
    func requireReadableDisk() throws(UpdaterError) {
        do {
            try slotDisk.probe()
        } catch {
            notifyChanged() // DiskProblem may be new
            throw .slots(error)
        }
        assessBootIfPending()
    }

    /// Resolves `booted`, `other`, `A`/`B`, a label or a partition number on the disk as `booted` found it.
    func resolveSlot(_ selector: String, booted: BootedSlot) throws(UpdaterError) -> Slot {
        switch selector.lowercased() {
        case "booted": return booted.slot
        case "other": return booted.pair[booted.slot.name.other]
        default:
            do {
                return try booted.pair.resolve(selector)
            } catch {
                throw .invalidArgument("\(error); use booted, other, A or B")
            }
        }
    }

    /// Changes a slot's boot flags, refusing anything that would leave no bootable slot or
    /// make an unverified slot bootable. Returns the slot's name and what was done.
    public func mark(_ state: MarkState, slot selector: String) throws(UpdaterError) -> (slot: SlotName, message: String) {
        try requireReadableDisk()
        let outcome = try changeFlags { booted, current throws(UpdaterError) in
            let slot = try resolveSlot(selector, booted: booted)
            let other = booted.pair[slot.name.other]
            let flags = current[slot.partition.number]
            let otherFlags = current[other.partition.number]
            let isBooted = slot.name == booted.slot.name
            switch state {
            case .good:
                guard isBooted else {
                    throw .refused("only the booted slot (\(booted.slot.name.rawValue)) can be marked good: it is the one "
                        + "that has shown it boots; slot \(slot.name.rawValue) would be trusted without ever running")
                }
                if flags.successful, flags.tries == 0, flags.priority > 0 {
                    // Already proven: re-marking must not take the turn of an update waiting in the other slot.
                    return ({ _ in }, "slot \(slot.name.rawValue) is already marked good; nothing changed")
                }
                return ({ $0.markGood(slot.partition.number) },
                        "marked slot \(slot.name.rawValue) good: it boots next and is the system the bootloader falls back to")
            case .bad:
                if isBooted, !otherFlags.isBootable {
                    throw .refused("slot \(other.name.rawValue) cannot boot (\(otherFlags)), so marking the booted slot "
                        + "\(slot.name.rawValue) bad would leave nothing to boot; install an update into \(other.name.rawValue) first")
                }
                return ({ $0.markBad(slot.partition.number) },
                        "marked slot \(slot.name.rawValue) bad: it will not boot until something new is installed into it")
            case .active:
                if isBooted {
                    return ({ $0.prioritize(slot.partition.number) },
                            "slot \(slot.name.rawValue) (booted) boots next; an update waiting in \(other.name.rawValue) stays "
                                + "written but no longer boots (updatectl mark-active \(other.name.rawValue) arms it again)")
                }
                guard flags.successful || flags.tries > 0 else {
                    throw .refused("slot \(slot.name.rawValue) holds no bootable system (\(flags): an install was interrupted "
                        + "or it was marked bad); install an update into it first")
                }
                if flags.priority == 0, !flags.successful {
                    throw .refused("slot \(slot.name.rawValue) was never verified as installed (\(flags)); install an update into it")
                }
                return ({ $0.prioritize(slot.partition.number) },
                        "slot \(slot.name.rawValue) boots next" + (flags.successful ? "" : " on trial"))
            }
        }
        // Only the booted slot can be marked good: the boot it runs is blessed.
        if state == .good {
            do throws(UpdaterError) {
                try recordBlessing()
            } catch {
                guard case let .state(stateError) = error else { throw error }
                throw .notRecorded(done: outcome.message, stateError)
            }
        }
        return outcome
    }

    /// Makes the other slot the next boot when it holds a system that booted before. During a
    /// trial boot this ends the trial by choice: the next boot is not a failed one.
    public func rollback() throws(UpdaterError) -> (slot: SlotName, message: String) {
        try requireReadableDisk()
        let outcome = try changeFlags { booted, current throws(UpdaterError) in
            let other = booted.pair[booted.slot.name.other]
            let flags = current[other.partition.number]
            if flags.successful {
                let version = book.state.slotVersions[other.partition.uniqueGUID.description]?.version
                let what = version.map { "version \($0) in slot \(other.name.rawValue)" } ?? "slot \(other.name.rawValue)"
                return ({ $0.prioritize(other.partition.number) }, "\(what) boots next; reboot to roll back: updatectl reboot --force")
            }
            if flags.tries > 0, flags.priority > 0 {
                throw .refused("slot \(other.name.rawValue) holds an update that has not booted yet, not an older system; "
                    + "to drop the update instead, run updatectl mark-bad other")
            }
            throw .refused("slot \(other.name.rawValue) has no system that booted successfully (\(flags)): it was never "
                + "installed, an install was interrupted, or it was marked bad; there is nothing to roll back to")
        }
        let slot = booted?.slot.name
        do throws(StateError) {
            // The trial ended by choice: the next boot is not a failed one.
            if let slot { try book.commit(.trialEnded(slot: slot)) }
        } catch {
            throw .notRecorded(done: outcome.message, error)
        }
        return outcome
    }

    /// What a reboot would do now; throws when none is pending, unless forced.
    public func rebootPlan(force: Bool) throws(UpdaterError) -> String {
        let current = status()
        if let busy = runner.busyError { throw busy }
        guard let next = current.nextBootSlot else {
            throw .refused("no slot is bootable; rebooting now would leave the machine unable to start")
        }
        if current.rebootPending, let version = current.newVersion {
            return "reboot into version \(version) in slot \(next.rawValue) (on trial)"
        }
        guard force else { throw .noRebootPending }
        return "reboot (forced; no update pending); slot \(next.rawValue) boots next"
    }

    /// Reads the flags, asks `decide` what to change, writes it — unless an install is running.
    /// The one path by which tandemd changes flags outside an install: the disk's lock is held
    /// from the busy check to the write, and an install writes only under the same lock, so
    /// nothing can start writing between "not busy" and this write.
    private func changeFlags(
        _ decide: (BootedSlot, BootTable) throws(UpdaterError) -> (change: (inout BootTable) -> Void, message: String)
    ) throws(UpdaterError) -> (slot: SlotName, message: String) {
        // At once, rather than after waiting for the lock a running install holds.
        if let busy = runner.busyError { throw busy }
        let booted: BootedSlot
        let decision: (change: (inout BootTable) -> Void, message: String)
        let after: BootTable
        do {
            (booted, decision, after) = try slotDisk.exclusive { booted, control in
                if let busy = runner.busyError { throw busy }
                let current = try control.read().table
                let decision = try decide(booted, current)
                return (booted, decision, try control.update(decision.change).after)
            }
        } catch let error as UpdaterError {
            throw error
        } catch let error as SlotError {
            throw .slots(error)
        } catch {
            throw .bootState(reason: "\(error)")
        }
        cache.withLock { $0.table = after }
        let (bootID, now) = (bootID, clock.epochSeconds)
        do throws(StateError) {
            try book.commit { state in
                state = state.applying(.pendingRebootChanged(
                    Self.pendingReboot(after: after, booted: booted, state: state, bootID: bootID, now: now)))
            }
        } catch {
            log.notice("\(decision.message)")
            notifyChanged()
            throw .notRecorded(done: decision.message, error)
        }
        log.notice("\(decision.message)")
        notifyChanged()
        if let pending = pendingReboot(book.state) {
            coordinator.updateReady(version: pending.version)
        } else {
            coordinator.updateDropped()
        }
        let next = after.nextBoot().flatMap { booted.pair.slot(partition: $0)?.name } ?? booted.slot.name
        return (next, decision.message)
    }

    /// The update waiting for a reboot once the flags are `after`. One that no longer boots next
    /// was dropped on purpose (mark-bad, mark-active): it must not be mistaken for a failed boot
    /// after the reboot. One that boots next again (mark-active) is pending again, so that its
    /// trial is recognised.
    static func pendingReboot(after: BootTable, booted: BootedSlot, state: DaemonState, bootID: String,
                              now: Int64) -> PendingReboot? {
        var pending = state.pendingReboot
        let next = after.nextBoot().flatMap { booted.pair.slot(partition: $0)?.name }
        if let current = pending, current.bootID == bootID, next != current.slot {
            pending = nil
        }
        let other = booted.pair[booted.slot.name.other]
        let otherFlags = after[other.partition.number]
        if pending == nil, next == other.name, otherFlags.tries > 0, !otherFlags.successful,
           let installed = state.slotVersions[other.partition.uniqueGUID.description], installed.sha256 != nil {
            pending = PendingReboot(slot: other.name, version: installed.version, imageSize: installed.size,
                                    bootID: bootID, time: now)
        }
        return pending
    }
}
