import UpdateModel
import Slots
import FoundationEssentials

/// `updatectl status --json`: schema `tandem.status/1` (docs/cli-json.md). Fields are only
/// ever added.
struct StatusReport: Encodable {
    struct Progress: Encodable {
        var phase: String
        var bytesDone: UInt64
        var bytesTotal: UInt64
        var bytesPerSecond: Double
        var secondsRemaining: Double?
    }

    struct Result: Encodable {
        var transaction: String
        var code: Int32
        var result: String
        var message: String
        var version: String
        var time: Int64
        var bootID: String
    }

    struct SlotInfo: Encodable {
        var name: String
        var device: String
        var label: String
        var partition: Int
        var priority: UInt8
        var tries: UInt8
        var successful: Bool
        var version: String?
        var booted: Bool
        var nextBoot: Bool
    }

    struct Boot: Encodable {
        var kind: String
        var slot: String
        var version: String?
        var reason: String?
        var bootID: String
        var installBootID: String?
        var time: Int64
        var message: String
    }

    struct Quarantined: Encodable {
        var version: String
        var reason: String
        var slot: String
        var bootID: String
        var time: Int64
    }

    struct Check: Encodable {
        var time: Int64
        var result: String
        var version: String
        var message: String
    }

    struct Staged: Encodable {
        var slot: String
        var version: String
        var size: UInt64
        var time: Int64
    }

    struct Updates: Encodable {
        var strategy: String
        var channel: String
        var address: String
        var group: String
        var lastCheck: Check?
        var nextCheckTime: Int64?
        var staged: Staged?
    }

    struct Coordination: Encodable {
        var strategy: String
        var phase: String
        var window: String?
        var lockHeld: Bool
        var message: String
    }

    struct Recovery: Encodable {
        var movedTo: String
        var reason: String
        var time: Int64
    }

    var schema = "tandem.status/1"
    var operation: String
    var transaction: String?
    var progress: Progress?
    var newVersion: String?
    var newSize: UInt64
    /// Absent while the disk holding the slots has never been readable.
    var bootedSlot: String?
    /// Why the disk holding the slots cannot be probed or read; absent when it can.
    var diskProblem: String?
    /// Why tandemd's last write of its state directory failed, while no write has succeeded since.
    var stateProblem: String?
    /// The bootloader interface (`gptprio`, `grub-env`, `systemd-boot`, `custom`); absent when
    /// tandemd named one this updatectl does not know.
    var bootBackend: String?
    var bootedVersion: String?
    var nextBootSlot: String?
    var rebootPending: Bool
    var lastCheckTime: Int64
    var lastResult: Result?
    var slots: [SlotInfo]
    var boot: Boot?
    var quarantined: [Quarantined]
    var updates: Updates
    var coordination: Coordination
    /// Present during the boot in which an unreadable state.json was moved aside.
    var stateRecovery: Recovery?

    init(_ status: UpdaterStatus) {
        operation = status.operation.rawValue
        transaction = status.transaction
        let report = status.progress
        progress = report.phase.map { phase in Progress(
            phase: phase.rawValue, bytesDone: report.bytesDone, bytesTotal: report.bytesTotal,
            bytesPerSecond: report.bytesPerSecond, secondsRemaining: report.secondsRemaining) }
        newVersion = status.newVersion
        newSize = status.newSize
        bootedSlot = status.bootedSlot?.rawValue
        diskProblem = status.diskProblem
        stateProblem = status.stateProblem
        bootBackend = status.bootBackend?.rawValue
        bootedVersion = status.bootedVersion
        nextBootSlot = status.nextBootSlot?.rawValue
        rebootPending = status.rebootPending
        lastCheckTime = status.lastCheckTime
        lastResult = status.lastResult.map {
            Result(transaction: $0.transaction, code: $0.code.rawValue, result: $0.code.name, message: $0.message,
                   version: $0.version, time: $0.time, bootID: $0.bootID)
        }
        slots = status.slots.map {
            SlotInfo(name: $0.name.rawValue, device: $0.device, label: $0.label, partition: $0.partition,
                     priority: $0.priority, tries: $0.tries, successful: $0.successful, version: $0.version,
                     booted: $0.booted, nextBoot: $0.nextBoot)
        }
        boot = status.boot.map {
            Boot(kind: $0.kind.rawValue, slot: $0.bootedSlot.rawValue, version: $0.version, reason: $0.reason?.displayText,
                 bootID: $0.bootID, installBootID: $0.installBootID, time: $0.time, message: $0.message)
        }
        quarantined = status.quarantined.map {
            Quarantined(version: $0.version, reason: $0.reason.displayText, slot: $0.slot.rawValue, bootID: $0.bootID, time: $0.time)
        }
        let automatic = status.updates
        updates = Updates(
            strategy: automatic.strategy.rawValue, channel: automatic.channel.rawValue, address: automatic.address, group: automatic.group,
            lastCheck: automatic.lastCheck.map { Check(time: $0.time, result: $0.result.rawValue, version: $0.version, message: $0.message) },
            nextCheckTime: automatic.nextCheckTime > 0 ? automatic.nextCheckTime : nil,
            staged: automatic.staged.map { Staged(slot: $0.slot.rawValue, version: $0.version, size: $0.size, time: $0.time) })
        let reboots = status.coordination
        coordination = Coordination(strategy: reboots.strategy.rawValue, phase: reboots.phase.rawValue,
                                    window: reboots.window.isEmpty ? nil : reboots.window, lockHeld: reboots.lockHeld,
                                    message: reboots.message)
        stateRecovery = status.stateRecovery.map { Recovery(movedTo: $0.movedTo, reason: $0.reason, time: $0.time) }
    }

    func encodeJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human view: the slot table, then what is going on.
    static func render(_ status: UpdaterStatus) -> String {
        var table = TextTable(header: ["SLOT", "LABEL", "DEVICE", "PRIO", "TRIES", "GOOD", "VERSION", ""])
        for slot in status.slots {
            var markers: [String] = []
            if slot.booted { markers.append("booted") }
            if slot.nextBoot { markers.append("next boot") }
            table.rows.append([slot.name.rawValue, slot.label, slot.device, "\(slot.priority)", "\(slot.tries)",
                               slot.successful ? "yes" : "no", slot.version ?? "-", markers.joined(separator: ", ")])
        }
        var lines = [table.render(), ""]
        lines.append("Boot backend: " + (status.bootBackend?.displayName ?? "unknown to this updatectl"))
        if let problem = status.diskProblem {
            lines.append("Disk:         UNUSABLE: installs and boot-flag changes are refused until this is fixed")
            lines.append("              \(problem)")
        }
        if let problem = status.stateProblem {
            lines.append("State:        NOT SAVED: what tandemd did since is lost if it stops; fix the state directory")
            lines.append("              \(problem)")
        }
        if let boot = status.boot {
            let kind = switch boot.kind {
            case .normal: "normal"
            case .trial: "TRIAL of version \(boot.version ?? "?"), not yet proven good"
            case .blessed: "trial of version \(boot.version ?? "?") succeeded; blessed"
            case .fallback: "FALLBACK: version \(boot.version ?? "?") did not boot (\(boot.reason?.displayText ?? "unknown reason"))"
            case .noBootableSlot: "NO BOOTABLE SLOT"
            case let .unknown(text): "\(text) (as a newer tandemd called it)"
            }
            lines.append("This boot:    \(kind)")
            if !boot.message.isEmpty { lines.append("              \(boot.message)") }
        }
        if let recovery = status.stateRecovery {
            lines.append("Saved state:  UNREADABLE (\(recovery.reason)); moved to \(recovery.movedTo) at \(formatTime(recovery.time))")
            lines.append("              tandemd started afresh: any interrupted install, pending reboot or trial was forgotten")
        }
        lines.append("State:        " + describeState(status))
        if status.rebootPending, let version = status.newVersion, let next = status.nextBootSlot {
            lines.append("Reboot:       pending: version \(version) boots from slot \(next.rawValue) on trial (updatectl reboot)")
        } else {
            lines.append("Reboot:       not needed")
        }
        if let last = status.lastResult {
            lines.append("Last result:  \(last.code.name) at \(formatTime(last.time)) (transaction \(last.transaction))")
            lines.append("              \(last.message)")
        } else {
            lines.append("Last result:  none yet")
        }
        lines.append(contentsOf: describeUpdates(status.updates))
        let reboots = status.coordination
        var rebootLine = "Reboots:      \(reboots.strategy)"
        if !reboots.window.isEmpty { rebootLine += ", window \(reboots.window)" }
        // Holding shows as the lock held, just below.
        if reboots.phase != .idle && reboots.phase != .holding { rebootLine += ", \(reboots.phase.displayText)" }
        if reboots.lockHeld { rebootLine += ", holding a slot of the fleet's reboot lock" }
        lines.append(rebootLine)
        if !reboots.message.isEmpty { lines.append("              \(reboots.message)") }
        if !status.quarantined.isEmpty {
            lines.append("Quarantined:  " + status.quarantined.map {
                "\($0.version) (\($0.reason.displayText) in slot \($0.slot.rawValue), \(formatTime($0.time)))"
            }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    /// Where updates come from, the strategy, and the checks: the last one and the next.
    private static func describeUpdates(_ updates: AutomaticUpdates) -> [String] {
        let source = switch updates.channel {
        case .omaha: "Omaha server \(updates.address), group \(updates.group)"
        case .bundle: "bundle source \(updates.address)"
        case .disabled: updates.address
        case .none: "no update server configured (Server= in tandem.conf, or SERVER= in /etc/flatcar/update.conf)"
        }
        var lines = ["Updates:      \(updates.strategy.rawValue), from \(source)"]
        if let check = updates.lastCheck {
            lines.append("Last check:   \(check.result.rawValue) at \(formatTime(check.time))")
            lines.append("              \(check.message)")
        } else {
            lines.append("Last check:   never")
        }
        lines.append("Next check:   " + (updates.nextCheckTime > 0 ? formatTime(updates.nextCheckTime)
            : updates.strategy == .off ? "none (Strategy=off)" : "none scheduled"))
        if let staged = updates.staged {
            lines.append("Staged:       version \(staged.version) in slot \(staged.slot.rawValue), downloaded and verified at "
                + "\(formatTime(staged.time)); updatectl activate makes it bootable")
        }
        return lines
    }

    private static func describeState(_ status: UpdaterStatus) -> String {
        let progress = status.progress
        switch status.operation {
        case .idle:
            return "idle"
        case .resuming, .writing, .verifying:
            let percent = progress.bytesTotal > 0 ? progress.bytesDone * 100 / progress.bytesTotal : 0
            let eta = progress.secondsRemaining.map { ", ETA \(formatDuration($0))" } ?? ""
            return "\(status.operation.rawValue) \(status.newVersion ?? "") (transaction \(status.transaction ?? "?")): \(percent)%, "
                + "\(formatBytes(progress.bytesDone)) of \(formatBytes(progress.bytesTotal)) at "
                + "\(formatBytes(UInt64(progress.bytesPerSecond)))/s\(eta)"
        case .checking, .preparing, .finalizing:
            return "\(status.operation.rawValue) (transaction \(status.transaction ?? "?"))"
        }
    }
}

func formatTime(_ unixTime: Int64) -> String {
    Date(timeIntervalSince1970: Double(unixTime)).formatted(.iso8601)
}
