/// Why the bootloader went back to the old slot.
public enum FallbackReason: String, Codable, Sendable, CaseIterable {
    /// The new slot was booted and used up its tries without being blessed (it crashed, hung,
    /// or never reached boot-complete.target).
    case triesExhausted = "tries exhausted"
    /// The new slot was marked bad (priority 0) before it could prove itself, e.g. by a failed
    /// health check running `updatectl mark-bad booted`.
    case markedBad = "marked bad"
    /// The new slot no longer holds the image that was installed and verified (the disk
    /// corrupted it, or something else wrote it): found by hashing it again after the fallback.
    case verificationFailed = "verification failed"
    /// The bootloader chose the old slot although the new one was still eligible (a manual
    /// choice in the boot menu, or another bootloader order).
    case notChosen = "not chosen by the bootloader"
}

/// What tandemd found when it started: how the running boot relates to what was expected.
public struct BootReport: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Nothing was pending: the booted slot is the good one.
        case normal
        /// The updated slot booted and is on trial, not yet proven.
        case trial
        /// The trial slot was blessed during this boot.
        case blessed
        /// The updated slot did not boot; the bootloader went back to the old one.
        case fallback
        /// No slot is bootable by the GPT rules: the next boot will fail.
        case noBootableSlot = "no-bootable-slot"
    }

    public var kind: Kind
    public var bootedSlot: String
    /// The version that was being tried (trial, blessed, fallback).
    public var version: String?
    public var reason: FallbackReason?
    public var bootID: String
    /// The boot during which the update was installed.
    public var installBootID: String?
    public var time: Int64
    public var message: String

    public init(kind: Kind, bootedSlot: String, version: String?, reason: FallbackReason?, bootID: String,
                installBootID: String?, time: Int64, message: String) {
        self.kind = kind
        self.bootedSlot = bootedSlot
        self.version = version
        self.reason = reason
        self.bootID = bootID
        self.installBootID = installBootID
        self.time = time
        self.message = message
    }
}
