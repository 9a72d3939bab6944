import Slots
import Verification

/// Where the host stands in its update cycle, read from the saved state.
///
/// A view, not a field: state.json keeps its separate records (`transaction`, `staged`,
/// `pendingReboot`, `trial`), which older tandemd versions read, and this is what they add up to.
/// When records overlap (an install forced during a trial), the one that decides what happens
/// next wins: a transaction, then a trial, then a pending reboot, then a staged image.
public enum HostUpdateState: Sendable, Equatable {
    case idle
    /// A transaction is recorded: running, or interrupted and waiting to be recovered.
    case installing(TransactionRecord)
    /// The booted slot is on trial and not blessed yet.
    case trial(TrialBoot)
    /// An installed update waits for the reboot into it.
    case pendingReboot(PendingReboot)
    /// An image was downloaded and verified, unbootable until `activate`.
    case staged(StagedUpdate)
}

extension DaemonState {
    public var hostState: HostUpdateState {
        if let transaction { return .installing(transaction) }
        if let trial { return .trial(trial) }
        if let pendingReboot { return .pendingReboot(pendingReboot) }
        if let staged { return .staged(staged) }
        return .idle
    }
}

/// What happens to the host's saved state; `DaemonState.applying` is the one place that says
/// what each does to it, so that every transition is a pure function tested on its own.
/// (Boot assessment, the largest, is `BootAssessment`.)
enum HostEvent {
    /// A transaction started, or learned its source, version or target slot.
    case transactionRecorded(TransactionRecord)
    /// An install is about to write the other slot: the pending or staged update there is gone.
    case targetWillBeWritten
    /// The transaction ended; `effects` are what its success changed with it.
    case transactionEnded(ResultRecord, effects: [HostEvent] = [])
    /// A service stop ended the transaction on purpose: it resumes at the next start.
    case transactionStopped(at: Int64)
    /// `image` is now in the slot with `partitionUUID`.
    case imageWritten(partitionUUID: String, image: InstalledImage)
    /// The slot is on trial at the next reboot; the server will hear which version it replaced.
    case activated(PendingReboot, previousVersion: String)
    case staged(StagedUpdate)
    case stagedDropped
    /// The booted slot on trial was marked good during `bootID`.
    case blessed(slot: SlotName, bootID: String, now: Int64)
    /// A rollback during the trial of `slot` ended it by choice.
    case trialEnded(slot: SlotName)
    /// The boot flags changed outside an install: what waits for the reboot now.
    case pendingRebootChanged(PendingReboot?)
    case unquarantined(version: String)
    case checked(CheckRecord)
    case checkTime(Int64)
    /// The update server heard the previous version and any fallback.
    case serverTold(at: Int64)
    case rebootLockHeld(Bool)
}

extension DaemonState {
    /// The state after `event`.
    func applying(_ event: HostEvent) -> DaemonState {
        var state = self
        switch event {
        case let .transactionRecorded(record):
            state.transaction = record
        case .targetWillBeWritten:
            state.pendingReboot = nil
            state.staged = nil
        case let .transactionEnded(result, effects):
            state.transaction = nil
            state.lastResult = result
            state = effects.reduce(state) { $0.applying($1) }
        case let .transactionStopped(at):
            state.transaction?.stoppedAt = at
        case let .imageWritten(partitionUUID, image):
            state.slotVersions[partitionUUID] = image
        case let .activated(pending, previousVersion):
            state.pendingReboot = pending
            state.omaha.previousVersion = previousVersion
        case let .staged(staged):
            state.staged = staged
        case .stagedDropped:
            state.staged = nil
        case let .blessed(slot, bootID, now):
            guard let trial = state.trial, trial.slot == slot else { break }
            state.trial = nil
            state.lastBoot = BootReport(
                kind: .blessed, bootedSlot: trial.slot, version: trial.version, reason: nil, bootID: bootID,
                installBootID: trial.installBootID, time: now,
                message: "version \(trial.version) in slot \(trial.slot.rawValue) proved itself and was marked good; "
                    + "the other slot may now be updated")
        case let .trialEnded(slot):
            if state.trial?.slot == slot { state.trial = nil }
        case let .pendingRebootChanged(pending):
            state.pendingReboot = pending
        case let .unquarantined(version):
            state.quarantine.remove(version)
        case let .checked(record):
            state.lastCheck = record
        case let .checkTime(time):
            state.lastCheckTime = time
        case let .serverTold(at):
            state.lastCheckTime = at
            state.omaha.rollbackPending = false
            // Told once, as update_engine clears its previous-version after sending it: the
            // `0.0.0.0` of a host that never updated included.
            state.omaha.previousVersion = ""
        case let .rebootLockHeld(held):
            state.rebootLockHeld = held
        }
        return state
    }
}
