import BusCore
import Engine

/// update_engine's five status fields (flatcar-update-engine.md §1.3, §1.4), derived from the
/// native state.
public struct CompatStatus: Sendable, Equatable {
    public static let idle = "UPDATE_STATUS_IDLE"
    public static let checkingForUpdate = "UPDATE_STATUS_CHECKING_FOR_UPDATE"
    public static let updateAvailable = "UPDATE_STATUS_UPDATE_AVAILABLE"
    public static let downloading = "UPDATE_STATUS_DOWNLOADING"
    public static let verifying = "UPDATE_STATUS_VERIFYING"
    public static let finalizing = "UPDATE_STATUS_FINALIZING"
    public static let updatedNeedReboot = "UPDATE_STATUS_UPDATED_NEED_REBOOT"
    public static let reportingErrorEvent = "UPDATE_STATUS_REPORTING_ERROR_EVENT"
    /// update_engine's "no version" (kVersionZero).
    public static let versionZero = "0.0.0"

    public var lastCheckedTime: Int64
    /// 0.0 to 1.0, of the download only, as update_engine reports it.
    public var progress: Double
    public var currentOperation: String
    public var newVersion: String
    public var newSize: Int64

    /// `acknowledged`: ResetStatus was called while an update waited for a reboot; as with
    /// update_engine, the status reads idle again (the slot stays on trial).
    public init(_ status: UpdaterStatus, acknowledged: Bool) {
        lastCheckedTime = status.lastCheckTime
        progress = 0
        newVersion = status.newVersion ?? CompatStatus.versionZero
        newSize = Int64(clamping: status.newSize)
        switch status.operation {
        case .idle:
            currentOperation = status.rebootPending && !acknowledged ? CompatStatus.updatedNeedReboot : CompatStatus.idle
            if currentOperation == CompatStatus.idle {
                newVersion = CompatStatus.versionZero
                newSize = 0
            }
        case .checking: currentOperation = CompatStatus.checkingForUpdate
        case .preparing: currentOperation = CompatStatus.updateAvailable
        case .resuming:
            // Re-reading what an earlier attempt wrote: nothing downloaded yet in this one, and
            // the download's fraction then starts where the resume does, so it never goes back.
            currentOperation = CompatStatus.downloading
        case .writing:
            currentOperation = CompatStatus.downloading
            if status.progress.bytesTotal > 0 {
                progress = min(1, Double(status.progress.bytesDone) / Double(status.progress.bytesTotal))
            }
        case .verifying: currentOperation = CompatStatus.verifying
        case .finalizing: currentOperation = CompatStatus.finalizing
        }
    }

    init(lastCheckedTime: Int64, progress: Double, currentOperation: String, newVersion: String, newSize: Int64) {
        self.lastCheckedTime = lastCheckedTime
        self.progress = progress
        self.currentOperation = currentOperation
        self.newVersion = newVersion
        self.newSize = newSize
    }

    var arguments: [BusValue] {
        [.int64(lastCheckedTime), .double(progress), .string(currentOperation), .string(newVersion), .int64(newSize)]
    }
}
