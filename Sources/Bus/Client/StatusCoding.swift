import BusCore
import UpdateModel
import Slots

/// The native properties on the wire: the service encodes `UpdaterStatus`, the client decodes
/// it back, so both sides share one model and one set of signatures.
public enum StatusCoding {
    public static func properties(_ status: UpdaterStatus) -> [String: BusValue] {
        let progress = status.progress
        let last = status.lastResult
        let boot = status.boot
        let updates = status.updates
        let check = updates.lastCheck
        let staged = updates.staged
        return [
            "Operation": .string(status.operation.rawValue),
            "Transaction": .string(status.transaction ?? ""),
            "Progress": .structure([
                .string(progress.phase?.rawValue ?? ""), .uint64(progress.bytesDone), .uint64(progress.bytesTotal),
                .double(progress.bytesPerSecond), .double(progress.secondsRemaining ?? -1),
            ]),
            "NewVersion": .string(status.newVersion ?? ""),
            "NewSize": .uint64(status.newSize),
            "BootedSlot": .string(status.bootedSlot?.rawValue ?? ""),
            "DiskProblem": .string(status.diskProblem ?? ""),
            "StateProblem": .string(status.stateProblem ?? ""),
            "BootBackend": .string(status.bootBackend?.rawValue ?? ""),
            "BootedVersion": .string(status.bootedVersion ?? ""),
            "NextBootSlot": .string(status.nextBootSlot?.rawValue ?? ""),
            "Slots": .array(elementSignature: "(sssuyybs)", status.slots.map { slot in
                .structure([
                    .string(slot.name.rawValue), .string(slot.device), .string(slot.label), .uint32(UInt32(slot.partition)),
                    .byte(slot.priority), .byte(slot.tries), .bool(slot.successful), .string(slot.version ?? ""),
                ])
            }),
            "LastResult": .structure([
                .string(last?.transaction ?? ""), .int32(last?.code.rawValue ?? -1), .string(last?.message ?? ""),
                .string(last?.version ?? ""), .int64(last?.time ?? 0), .string(last?.bootID ?? ""),
            ]),
            "RebootPending": .bool(status.rebootPending),
            "LastCheckTime": .int64(status.lastCheckTime),
            "Boot": .structure([
                .string(boot?.kind.rawValue ?? ""), .string(boot?.bootedSlot.rawValue ?? ""), .string(boot?.version ?? ""),
                .string(boot?.reason?.displayText ?? ""), .string(boot?.bootID ?? ""), .string(boot?.installBootID ?? ""),
                .int64(boot?.time ?? 0), .string(boot?.message ?? ""),
            ]),
            "Quarantined": .array(elementSignature: "(ssssx)", status.quarantined.map { entry in
                .structure([.string(entry.version), .string(entry.reason.displayText), .string(entry.slot.rawValue), .string(entry.bootID),
                            .int64(entry.time)])
            }),
            "Strategy": .string(updates.strategy.rawValue),
            "UpdateChannel": .structure([.string(updates.channel.rawValue), .string(updates.address), .string(updates.group)]),
            "LastCheck": .structure([
                .int64(check?.time ?? 0), .string(check?.result.rawValue ?? ""), .string(check?.version ?? ""),
                .string(check?.message ?? ""),
            ]),
            "NextCheckTime": .int64(updates.nextCheckTime),
            "Coordination": .structure([
                .string(status.coordination.strategy.rawValue), .string(status.coordination.phase.rawValue),
                .string(status.coordination.window),
                .bool(status.coordination.lockHeld), .string(status.coordination.message),
            ]),
            "StateRecovery": .structure([
                .string(status.stateRecovery?.movedTo ?? ""), .string(status.stateRecovery?.reason ?? ""),
                .int64(status.stateRecovery?.time ?? 0), .string(status.stateRecovery?.bootID ?? ""),
            ]),
            "Staged": .structure([
                .string(staged?.slot.rawValue ?? ""), .string(staged?.version ?? ""), .uint64(staged?.size ?? 0), .int64(staged?.time ?? 0),
            ]),
        ]
    }

    public struct DecodingError: Error, CustomStringConvertible {
        public var property: String
        public var description: String {
            "tandemd sent an unexpected value for \(property); updatectl and tandemd are probably different versions"
        }
    }

    public static func status(from properties: [String: BusValue]) throws(DecodingError) -> UpdaterStatus {
        func field<T>(_ name: String, _ read: (BusValue) -> T?) throws(DecodingError) -> T {
            guard let value = properties[name], let decoded = read(value) else { throw DecodingError(property: name) }
            return decoded
        }
        func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
        let operation = try field("Operation") { $0.stringValue.flatMap(UpdateOperation.init(rawValue:)) }
        let progress = try field("Progress") { value -> ProgressReport? in
            guard let fields = value.structureValue, fields.count == 5, let phaseName = fields[0].stringValue,
                  let phase: ProgressPhase? = phaseName.isEmpty ? .some(nil) : ProgressPhase(rawValue: phaseName).map { .some($0) },
                  let done = fields[1].uint64Value, let total = fields[2].uint64Value,
                  let rate = fields[3].doubleValue, let eta = fields[4].doubleValue else { return nil }
            return ProgressReport(phase: phase, bytesDone: done, bytesTotal: total, bytesPerSecond: rate,
                                  secondsRemaining: eta < 0 ? nil : eta)
        }
        let bootedSlot = try field("BootedSlot") { value -> SlotName?? in
            guard let text = value.stringValue else { return nil }
            return text.isEmpty ? .some(nil) : SlotName(rawValue: text).map { .some($0) }
        }
        let next = try field("NextBootSlot") { $0.stringValue }
        let slots = try field("Slots") { value -> [SlotStatus]? in
            guard let elements = value.arrayValue else { return nil }
            var slots: [SlotStatus] = []
            for element in elements {
                guard let fields = element.structureValue, fields.count == 8,
                      let name = fields[0].stringValue.flatMap(SlotName.init(rawValue:)), let device = fields[1].stringValue,
                      let label = fields[2].stringValue, let partition = fields[3].uint32Value,
                      let priority = fields[4].byteValue, let tries = fields[5].byteValue,
                      let successful = fields[6].boolValue, let version = fields[7].stringValue else { return nil }
                slots.append(SlotStatus(
                    name: name, device: device, label: label, partition: Int(partition), priority: priority, tries: tries,
                    successful: successful, version: nonEmpty(version), booted: name == bootedSlot, nextBoot: name.rawValue == next))
            }
            return slots
        }
        let last = try field("LastResult") { value -> ResultRecord?? in
            guard let fields = value.structureValue, fields.count == 6, let transaction = fields[0].stringValue,
                  let code = fields[1].int32Value, let message = fields[2].stringValue, let version = fields[3].stringValue,
                  let time = fields[4].int64Value, let bootID = fields[5].stringValue else { return nil }
            guard !transaction.isEmpty else { return .some(nil) }
            return ResultRecord(transaction: transaction, code: ResultCode(rawValue: code), message: message, version: version, time: time, bootID: bootID)
        }
        let boot = try field("Boot") { value -> BootReport?? in
            guard let fields = value.structureValue, fields.count == 8, let kind = fields[0].stringValue,
                  let slotName = fields[1].stringValue, let version = fields[2].stringValue, let reason = fields[3].stringValue,
                  let bootID = fields[4].stringValue, let installBootID = fields[5].stringValue, let time = fields[6].int64Value,
                  let message = fields[7].stringValue else { return nil }
            guard !kind.isEmpty else { return .some(nil) }
            guard let slot = SlotName(rawValue: slotName) else { return nil }
            return BootReport(kind: BootReport.Kind(rawValue: kind), bootedSlot: slot, version: nonEmpty(version),
                              reason: nonEmpty(reason).map(FallbackReason.init(rawValue:)),
                              bootID: bootID, installBootID: nonEmpty(installBootID), time: time, message: message)
        }
        let quarantined = try field("Quarantined") { value -> [QuarantinedVersion]? in
            guard let elements = value.arrayValue else { return nil }
            var entries: [QuarantinedVersion] = []
            for element in elements {
                guard let fields = element.structureValue, fields.count == 5, let version = fields[0].stringValue,
                      let reason = fields[1].stringValue.map(FallbackReason.init(rawValue:)), let slot = fields[2].stringValue.flatMap(SlotName.init(rawValue:)),
                      let bootID = fields[3].stringValue, let time = fields[4].int64Value else { return nil }
                entries.append(QuarantinedVersion(version: version, reason: reason, slot: slot, bootID: bootID, time: time))
            }
            return entries
        }
        let strategy = try field("Strategy") { $0.stringValue.flatMap(UpdateStrategy.init(rawValue:)) }
        let channel = try field("UpdateChannel") { value -> (kind: UpdateChannelKind, address: String, group: String)? in
            guard let fields = value.structureValue, fields.count == 3,
                  let kind = fields[0].stringValue.flatMap(UpdateChannelKind.init(rawValue:)),
                  let address = fields[1].stringValue, let group = fields[2].stringValue else { return nil }
            return (kind, address, group)
        }
        let lastCheck = try field("LastCheck") { value -> CheckRecord?? in
            guard let fields = value.structureValue, fields.count == 4, let time = fields[0].int64Value,
                  let result = fields[1].stringValue, let version = fields[2].stringValue,
                  let message = fields[3].stringValue else { return nil }
            guard !result.isEmpty else { return .some(nil) }
            return CheckRecord(time: time, result: CheckRecord.Result(rawValue: result), version: version, message: message)
        }
        let staged = try field("Staged") { value -> StagedUpdate?? in
            guard let fields = value.structureValue, fields.count == 4, let slotName = fields[0].stringValue,
                  let version = fields[1].stringValue, let size = fields[2].uint64Value, let time = fields[3].int64Value else { return nil }
            guard !slotName.isEmpty else { return .some(nil) }
            guard let slot = SlotName(rawValue: slotName) else { return nil }
            return StagedUpdate(slot: slot, version: version, size: size, sha256: "", time: time)
        }
        let updates = AutomaticUpdates(strategy: strategy, channel: channel.kind, address: channel.address, group: channel.group,
                                       lastCheck: lastCheck, nextCheckTime: try field("NextCheckTime") { $0.int64Value },
                                       staged: staged)
        let coordination = try field("Coordination") { value -> CoordinationStatus? in
            guard let fields = value.structureValue, fields.count == 5,
                  let strategy = fields[0].stringValue.flatMap(RebootStrategy.init(rawValue:)),
                  let phase = fields[1].stringValue.flatMap(CoordinationPhase.init(rawValue:)),
                  let window = fields[2].stringValue, let held = fields[3].boolValue,
                  let message = fields[4].stringValue else { return nil }
            return CoordinationStatus(strategy: strategy, phase: phase, window: window, lockHeld: held, message: message)
        }
        let recovery = try field("StateRecovery") { value -> StateRecovery?? in
            guard let fields = value.structureValue, fields.count == 4, let movedTo = fields[0].stringValue,
                  let reason = fields[1].stringValue, let time = fields[2].int64Value, let bootID = fields[3].stringValue
            else { return nil }
            guard !movedTo.isEmpty else { return .some(nil) }
            return StateRecovery(movedTo: movedTo, reason: reason, time: time, bootID: bootID)
        }
        return UpdaterStatus(
            operation: operation, transaction: nonEmpty(try field("Transaction") { $0.stringValue }), progress: progress,
            newVersion: nonEmpty(try field("NewVersion") { $0.stringValue }), newSize: try field("NewSize") { $0.uint64Value },
            bootedSlot: bootedSlot, bootedVersion: nonEmpty(try field("BootedVersion") { $0.stringValue }),
            nextBootSlot: SlotName(rawValue: next), slots: slots,
            diskProblem: nonEmpty(try field("DiskProblem") { $0.stringValue }), lastResult: last,
            rebootPending: try field("RebootPending") { $0.boolValue }, lastCheckTime: try field("LastCheckTime") { $0.int64Value },
            boot: boot, quarantined: quarantined, updates: updates, coordination: coordination, stateRecovery: recovery,
            // A kind this client does not know (a newer tandemd's) is shown as unknown.
            bootBackend: try field("BootBackend") { value -> BootBackendKind?? in value.stringValue.map(BootBackendKind.init(rawValue:)) },
            stateProblem: nonEmpty(try field("StateProblem") { $0.stringValue }))
    }
}
