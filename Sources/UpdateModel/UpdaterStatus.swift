import Slots

/// One slot as status reports show it.
public struct SlotStatus: Sendable, Equatable {
    public var name: SlotName
    /// The partition's device node, or `<disk image> partition N` for an image file.
    public var device: String
    public var label: String
    public var partition: Int
    public var priority: UInt8
    public var tries: UInt8
    public var successful: Bool
    /// Known for the booted slot (os-release) and for slots tandemd installed.
    public var version: String?
    public var booted: Bool
    public var nextBoot: Bool

    public init(name: SlotName, device: String, label: String, partition: Int, priority: UInt8, tries: UInt8,
                successful: Bool, version: String?, booted: Bool, nextBoot: Bool) {
        self.name = name
        self.device = device
        self.label = label
        self.partition = partition
        self.priority = priority
        self.tries = tries
        self.successful = successful
        self.version = version
        self.booted = booted
        self.nextBoot = nextBoot
    }
}

/// Everything the D-Bus properties and `updatectl status` show, taken at one instant.
public struct UpdaterStatus: Sendable, Equatable {
    public var operation: UpdateOperation
    /// The transaction running now.
    public var transaction: String?
    public var progress: ProgressReport
    /// The version being installed, or installed and waiting for a reboot.
    public var newVersion: String?
    public var newSize: UInt64
    /// Nil while the disk holding the slots has never been readable (`diskProblem` says why).
    public var bootedSlot: SlotName?
    public var bootedVersion: String?
    public var nextBootSlot: SlotName?
    /// Empty while the disk has never been readable.
    public var slots: [SlotStatus]
    /// Why the disk holding the slots could not be probed or read the last time it was tried:
    /// installs and flag changes are refused until it can. Nil when it worked.
    public var diskProblem: String?
    public var lastResult: ResultRecord?
    public var rebootPending: Bool
    public var lastCheckTime: Int64
    /// What this boot is (normal, trial, blessed, fallback), as found at start-up.
    public var boot: BootReport?
    public var quarantined: [QuarantinedVersion]
    public var updates: AutomaticUpdates
    public var coordination: CoordinationStatus
    /// The saved state was unreadable and set aside during this boot.
    public var stateRecovery: StateRecovery?
    /// The bootloader interface the boot state goes through (`[Slots] Backend=`); nil when a
    /// newer tandemd names one this client does not know.
    public var bootBackend: BootBackendKind?
    /// Why the last change of the saved state could not be written, while none has been since:
    /// memory kept what the disk holds, so that change did not happen. Daemon-side only for now.
    public var stateProblem: String?

    public init(operation: UpdateOperation, transaction: String?, progress: ProgressReport, newVersion: String?,
                newSize: UInt64, bootedSlot: SlotName?, bootedVersion: String?, nextBootSlot: SlotName?,
                slots: [SlotStatus], diskProblem: String? = nil, lastResult: ResultRecord?, rebootPending: Bool, lastCheckTime: Int64,
                boot: BootReport? = nil, quarantined: [QuarantinedVersion] = [], updates: AutomaticUpdates = AutomaticUpdates(),
                coordination: CoordinationStatus = CoordinationStatus(), stateRecovery: StateRecovery? = nil,
                bootBackend: BootBackendKind? = .default, stateProblem: String? = nil) {
        self.stateRecovery = stateRecovery
        self.stateProblem = stateProblem
        self.bootBackend = bootBackend
        self.updates = updates
        self.coordination = coordination
        self.boot = boot
        self.quarantined = quarantined
        self.operation = operation
        self.transaction = transaction
        self.progress = progress
        self.newVersion = newVersion
        self.newSize = newSize
        self.bootedSlot = bootedSlot
        self.bootedVersion = bootedVersion
        self.nextBootSlot = nextBootSlot
        self.slots = slots
        self.diskProblem = diskProblem
        self.lastResult = lastResult
        self.rebootPending = rebootPending
        self.lastCheckTime = lastCheckTime
    }
}

/// The outcome of looking at the configured source.
public struct CheckResult: Sendable, Equatable {
    public var available: Bool
    public var version: String
    public var size: UInt64
    /// In words: what was found and what to do.
    public var message: String

    public init(available: Bool, version: String, size: UInt64, message: String) {
        self.available = available
        self.version = version
        self.size = size
        self.message = message
    }
}

/// How the machine updates itself: the policy, where from, and the checks' timetable.
public struct AutomaticUpdates: Sendable, Equatable {
    public var strategy: UpdateStrategy
    public var channel: UpdateChannelKind
    /// The bundle source or the Omaha server.
    public var address: String
    /// The Omaha group (track).
    public var group: String
    public var lastCheck: CheckRecord?
    /// Unix time of the next automatic check; 0 when none is scheduled.
    public var nextCheckTime: Int64
    public var staged: StagedUpdate?

    public init(strategy: UpdateStrategy = .off, channel: UpdateChannelKind = .none, address: String = "", group: String = "",
                lastCheck: CheckRecord? = nil, nextCheckTime: Int64 = 0, staged: StagedUpdate? = nil) {
        self.strategy = strategy
        self.channel = channel
        self.address = address
        self.group = group
        self.lastCheck = lastCheck
        self.nextCheckTime = nextCheckTime
        self.staged = staged
    }
}
