extension UpdaterStatus {
    /// One line: what `systemctl status tandemd` shows as the service status, and what
    /// `updatectl watch` prints per change.
    public var summary: String {
        let status = self
        var booted = "booted \(status.bootedSlot?.rawValue ?? "slot unknown")" + (status.bootedVersion.map { " (\($0))" } ?? "")
        if status.diskProblem != nil { booted += "; THE SLOT DISK IS UNUSABLE (updatectl status)" }
        if status.stateProblem != nil { booted += "; THE STATE CANNOT BE SAVED (updatectl status)" }
        switch status.boot?.kind {
        case .trial?: booted += " on trial, not yet blessed"
        case .fallback?: booted += " after a fallback: \(status.boot?.version ?? "the update") did not boot (\(status.boot?.reason?.displayText ?? "?"))"
        case .noBootableSlot?: booted += "; NO SLOT IS BOOTABLE"
        default: break
        }
        if let recovery = status.stateRecovery {
            booted += "; the saved state was unreadable and was moved to \(recovery.movedTo)"
        }
        switch status.operation {
        case .idle:
            if status.rebootPending, let version = status.newVersion, let next = status.nextBootSlot {
                return "\(booted); version \(version) in slot \(next.rawValue) waits for a reboot"
            }
            if let last = status.lastResult, last.code != .success, last.code != .noUpdate, last.code != .fellBack {
                return "\(booted); idle; last transaction \(last.code.name): \(last.message)"
            }
            return "\(booted); idle"
        case .writing, .resuming, .verifying:
            let progress = status.progress
            let percent = progress.bytesTotal > 0 ? progress.bytesDone * 100 / progress.bytesTotal : 0
            let tenths = Int((progress.bytesPerSecond / 1_048_576 * 10).rounded())
            return "\(booted); \(status.operation.rawValue) \(status.newVersion ?? "update"): \(percent)% at \(tenths / 10).\(tenths % 10) MiB/s"
        case .checking, .preparing, .finalizing:
            return "\(booted); \(status.operation.rawValue)" + (status.newVersion.map { " \($0)" } ?? "")
        }
    }
}
