import Slots

/// What tandemd keeps across restarts and reboots, in `state.json` in the state directory.
public struct DaemonState: Sendable, Equatable {
    /// The install in progress. Present on start-up only if tandemd stopped during one.
    public var transaction: TransactionRecord?
    public var lastResult: ResultRecord?
    /// A slot put on trial and not booted yet.
    public var pendingReboot: PendingReboot?
    /// Unix time of the last successful check, for update_engine's `last_checked_time`.
    public var lastCheckTime: Int64 = 0
    /// What tandemd installed in each slot, by partition UUID: the version and when.
    public var slotVersions: [String: InstalledImage] = [:]
    /// The slot being tried: booted after an install and not blessed yet.
    public var trial: TrialBoot?
    /// Versions that failed to boot, skipped by automatic updates until a newer one appears.
    public var quarantine = Quarantine()
    /// What the latest boot was, as worked out when tandemd started during it.
    public var lastBoot: BootReport?
    public var lastCheck: CheckRecord?
    public var omaha = OmahaReporting()
    public var staged: StagedUpdate?
    /// This machine holds a slot of the fleet's reboot lock, taken before a reboot and given
    /// back after the blessing.
    public var rebootLockHeld = false

    /// The saved state was unreadable during this boot and was set aside (`StateStore`).
    public var stateRecovery: StateRecovery?
    /// Top-level fields a newer tandemd wrote, written back unchanged (see `DaemonState+Coding`).
    public var unknownFields: [String: JSONValue] = [:]

    public init() {}
}

public struct TransactionRecord: Codable, Sendable, Equatable {
    public var id: String
    public var source: String
    public var startTime: Int64
    public var bootID: String
    /// Known once the bundle is verified.
    public var version: String?
    public var imageSize: UInt64?
    public var targetSlot: SlotName?
    /// Set when a service stop (SIGTERM) ended the transaction: it was checkpointed on purpose.
    /// Absent after a crash or kill.
    public var stoppedAt: Int64?
    /// Install options that must survive a resume.
    public var slotChoice: SlotChoice
    public var verifyReadback: Bool
    /// Installed despite the trial guard or the quarantine.
    public var force = false
    /// Set when the update server offered the bundle.
    public var offer: UpdateOffer? = nil
    /// Whether the verified slot is put on trial, or left staged (download-only).
    public var completion = InstallCompletion.trial
    /// Who started it: the schedule or someone (Omaha's `installsource`).
    public var trigger = CheckTrigger.onDemand
}

/// What an install does with the slot once it is verified.
public enum InstallCompletion: Sendable, Equatable {
    /// Put it on trial: it boots at the next reboot.
    case trial
    /// Download-only: leave it unbootable until `updatectl activate`.
    case staged
}

public struct PendingReboot: Codable, Sendable, Equatable {
    public var slot: SlotName
    public var version: String
    public var imageSize: UInt64?
    /// The boot during which the slot was put on trial; a different boot id means the reboot happened.
    public var bootID: String
    public var time: Int64
}

public struct InstalledImage: Codable, Sendable, Equatable {
    public var version: String
    /// Known for images tandemd installed; nil for a version only seen running.
    public var sha256: String?
    public var size: UInt64? = nil
    public var time: Int64
}

public struct TrialBoot: Codable, Sendable, Equatable {
    public var slot: SlotName
    public var version: String
    /// The boot being tried; the boot during which the slot was installed.
    public var bootID: String
    public var installBootID: String
    public var since: Int64
}
