import Engine
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

    var schema = "tandem.status/1"
    var operation: String
    var transaction: String?
    var progress: Progress?
    var newVersion: String?
    var newSize: UInt64
    var bootedSlot: String
    var bootedVersion: String?
    var nextBootSlot: String?
    var rebootPending: Bool
    var lastCheckTime: Int64
    var lastResult: Result?
    var slots: [SlotInfo]
    var boot: Boot?
    var quarantined: [Quarantined]

    init(_ status: UpdaterStatus) {
        operation = status.operation.rawValue
        transaction = status.transaction
        let report = status.progress
        progress = report.phase.isEmpty ? nil : Progress(
            phase: report.phase, bytesDone: report.bytesDone, bytesTotal: report.bytesTotal,
            bytesPerSecond: report.bytesPerSecond, secondsRemaining: report.secondsRemaining)
        newVersion = status.newVersion
        newSize = status.newSize
        bootedSlot = status.bootedSlot.rawValue
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
            Boot(kind: $0.kind.rawValue, slot: $0.bootedSlot, version: $0.version, reason: $0.reason?.rawValue,
                 bootID: $0.bootID, installBootID: $0.installBootID, time: $0.time, message: $0.message)
        }
        quarantined = status.quarantined.map {
            Quarantined(version: $0.version, reason: $0.reason.rawValue, slot: $0.slot, bootID: $0.bootID, time: $0.time)
        }
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
        if let boot = status.boot {
            let kind = switch boot.kind {
            case .normal: "normal"
            case .trial: "TRIAL of version \(boot.version ?? "?"), not yet proven good"
            case .blessed: "trial of version \(boot.version ?? "?") succeeded; blessed"
            case .fallback: "FALLBACK: version \(boot.version ?? "?") did not boot (\(boot.reason?.rawValue ?? "unknown reason"))"
            case .noBootableSlot: "NO BOOTABLE SLOT"
            }
            lines.append("This boot:    \(kind)")
            if !boot.message.isEmpty { lines.append("              \(boot.message)") }
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
        lines.append("Last check:   " + (status.lastCheckTime > 0 ? formatTime(status.lastCheckTime) : "never"))
        if !status.quarantined.isEmpty {
            lines.append("Quarantined:  " + status.quarantined.map {
                "\($0.version) (\($0.reason.rawValue) in slot \($0.slot), \(formatTime($0.time)))"
            }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
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
