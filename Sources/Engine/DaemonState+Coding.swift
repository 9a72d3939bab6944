import Slots

/// How state.json is read and written, so that one written by another tandemd version still
/// loads (docs/configuration.md, "Compatibility of the saved state"): after a fallback the
/// older tandemd runs against the newer one's state, and that is the boot that must be blessed.
///
/// - `version` is always written; a file without one is the format from before it existed.
/// - Every field may be missing (an older tandemd knew fewer).
/// - Fields this tandemd does not know are kept and written back unchanged.
/// - A record of the wrong shape is dropped on its own instead of failing the whole file,
///   where losing it is safe; each field below says why it is.
extension DaemonState: Codable {
    /// The format this tandemd writes. Raised only when a field's meaning changes so that an
    /// older reader would act wrongly on it, which the compatibility rule forbids anyway; a
    /// reader seeing a higher number still loads the file.
    public static let formatVersion = 1

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, transaction, lastResult, pendingReboot, lastCheckTime, slotVersions, trial, quarantine
        case lastBoot, lastCheck, omaha, staged, rebootLockHeld, stateRecovery
    }

    /// Any key, for the fields this version does not know.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        /// The field, or nil when it is missing or of a shape this version cannot read.
        func lenient<T: Decodable>(_ type: T.Type, _ key: CodingKeys) -> T? {
            (try? container.decodeIfPresent(T.self, forKey: key)) ?? nil
        }
        // Dropping an interrupted install's record loses only its resume: the installer made
        // the target slot unbootable before writing, and the booted slot is never written.
        transaction = lenient(TransactionRecord.self, .transaction)
        // Shown, never acted on.
        lastResult = lenient(ResultRecord.self, .lastResult)
        lastBoot = lenient(BootReport.self, .lastBoot)
        lastCheck = lenient(CheckRecord.self, .lastCheck)
        lastCheckTime = lenient(Int64.self, .lastCheckTime) ?? 0
        // Without them the boot is assessed as normal: the slot stays unblessed until
        // tandem-bless-boot or `mark-good`, both of which still work.
        pendingReboot = lenient(PendingReboot.self, .pendingReboot)
        trial = lenient(TrialBoot.self, .trial)
        // A version missing from these is only shown as unknown, or retried by automatic
        // updates (a second fallback quarantines it again); one bad entry loses only itself.
        slotVersions = (lenient([String: Lenient<InstalledImage>].self, .slotVersions) ?? [:]).compactMapValues(\.value)
        quarantine = Quarantine((lenient([Lenient<QuarantinedVersion>].self, .quarantine) ?? []).compactMap(\.value))
        // Reporting only: at worst an event is sent again or not at all.
        omaha = lenient(OmahaReporting.self, .omaha) ?? OmahaReporting()
        // Without it `activate` refuses, and the next check downloads the update again.
        staged = lenient(StagedUpdate.self, .staged)
        // Not held is what a state from before the fleet lock said, and what a missing one says.
        rebootLockHeld = lenient(Bool.self, .rebootLockHeld) ?? false
        stateRecovery = lenient(StateRecovery.self, .stateRecovery)
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys where !known.contains(key.stringValue) {
            unknownFields[key.stringValue] = try? all.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var extra = encoder.container(keyedBy: AnyKey.self)
        for (name, value) in unknownFields where CodingKeys(stringValue: name) == nil {
            try extra.encode(value, forKey: AnyKey(stringValue: name))
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatVersion, forKey: .version)
        try container.encodeIfPresent(transaction, forKey: .transaction)
        try container.encodeIfPresent(lastResult, forKey: .lastResult)
        try container.encodeIfPresent(pendingReboot, forKey: .pendingReboot)
        try container.encode(lastCheckTime, forKey: .lastCheckTime)
        try container.encode(slotVersions, forKey: .slotVersions)
        try container.encodeIfPresent(trial, forKey: .trial)
        try container.encode(quarantine.entries, forKey: .quarantine)
        try container.encodeIfPresent(lastBoot, forKey: .lastBoot)
        try container.encodeIfPresent(lastCheck, forKey: .lastCheck)
        try container.encode(omaha, forKey: .omaha)
        try container.encodeIfPresent(staged, forKey: .staged)
        try container.encode(rebootLockHeld, forKey: .rebootLockHeld)
        try container.encodeIfPresent(stateRecovery, forKey: .stateRecovery)
    }
}

/// One element of a saved collection, or nil when it has a shape this version cannot read.
struct Lenient<Value: Decodable>: Decodable {
    var value: Value?

    init(from decoder: any Decoder) throws {
        value = try? Value(from: decoder)
    }
}

/// The record's JSON is what it was when the options were optional booleans, so that an older
/// tandemd reads it after a fallback: `force`, `stageOnly` and `scheduled` are written only when
/// true, and absent means false.
extension TransactionRecord {
    enum CodingKeys: String, CodingKey {
        case id, source, startTime, bootID, version, imageSize, targetSlot, stoppedAt, slotChoice, verifyReadback, force, offer
        case stageOnly, scheduled
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        source = try container.decode(String.self, forKey: .source)
        startTime = try container.decode(Int64.self, forKey: .startTime)
        bootID = try container.decode(String.self, forKey: .bootID)
        version = try container.decodeIfPresent(String.self, forKey: .version)
        imageSize = try container.decodeIfPresent(UInt64.self, forKey: .imageSize)
        targetSlot = try container.decodeIfPresent(SlotName.self, forKey: .targetSlot)
        stoppedAt = try container.decodeIfPresent(Int64.self, forKey: .stoppedAt)
        slotChoice = try container.decode(SlotChoice.self, forKey: .slotChoice)
        verifyReadback = try container.decode(Bool.self, forKey: .verifyReadback)
        force = try container.decodeIfPresent(Bool.self, forKey: .force) ?? false
        offer = try container.decodeIfPresent(UpdateOffer.self, forKey: .offer)
        completion = try container.decodeIfPresent(Bool.self, forKey: .stageOnly) == true ? .staged : .trial
        trigger = try container.decodeIfPresent(Bool.self, forKey: .scheduled) == true ? .scheduled : .onDemand
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(startTime, forKey: .startTime)
        try container.encode(bootID, forKey: .bootID)
        try container.encodeIfPresent(version, forKey: .version)
        try container.encodeIfPresent(imageSize, forKey: .imageSize)
        try container.encodeIfPresent(targetSlot, forKey: .targetSlot)
        try container.encodeIfPresent(stoppedAt, forKey: .stoppedAt)
        try container.encode(slotChoice, forKey: .slotChoice)
        try container.encode(verifyReadback, forKey: .verifyReadback)
        if force { try container.encode(true, forKey: .force) }
        try container.encodeIfPresent(offer, forKey: .offer)
        if completion == .staged { try container.encode(true, forKey: .stageOnly) }
        if trigger == .scheduled { try container.encode(true, forKey: .scheduled) }
    }
}
