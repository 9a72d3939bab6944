import Slots

/// Why the bootloader went back to the old slot.
///
/// Kept in state.json, which an older tandemd reads after a fallback: a reason it does not
/// know decodes to `unknown`, never to a failure (docs/configuration.md, "Compatibility of
/// the saved state").
public enum FallbackReason: Sendable, Hashable {
    /// The new slot was booted and used up its tries without being blessed (it crashed, hung,
    /// or never reached boot-complete.target).
    case triesExhausted
    /// The new slot was marked bad (priority 0) before it could prove itself, e.g. by a failed
    /// health check running `updatectl mark-bad booted`.
    case markedBad
    /// The new slot no longer holds the image that was installed and verified (the disk
    /// corrupted it, or something else wrote it): found by hashing it again after the fallback.
    case verificationFailed
    /// The bootloader chose the old slot although the new one was still eligible (a manual
    /// choice in the boot menu, or another bootloader order).
    case notChosen
    /// Written by a newer tandemd; the text is kept for display and written back unchanged.
    case unknown(String)
}

extension FallbackReason: RawRepresentable, Codable, CaseIterable {
    public static let allCases: [FallbackReason] = [.triesExhausted, .markedBad, .verificationFailed, .notChosen]

    /// A stable identifier (`tries-exhausted`), or what tandemd wrote before it had them: the
    /// display text (`tries exhausted`). Anything else is a reason of a newer tandemd, `unknown`.
    public init(rawValue: String) {
        self = Self.allCases.first { $0.rawValue == rawValue || $0.displayText == rawValue } ?? .unknown(rawValue)
    }

    /// The machine identifier, as kept in state.json. An older tandemd, which knows only the
    /// display texts, reads one as `unknown` with this text: shown, never acted on.
    public var rawValue: String {
        switch self {
        case .triesExhausted: "tries-exhausted"
        case .markedBad: "marked-bad"
        case .verificationFailed: "verification-failed"
        case .notChosen: "not-chosen"
        case let .unknown(text): text
        }
    }

    /// For people: in messages, `updatectl status` and the D-Bus `Boot` and `Quarantined` properties.
    public var displayText: String {
        switch self {
        case .triesExhausted: "tries exhausted"
        case .markedBad: "marked bad"
        case .verificationFailed: "verification failed"
        case .notChosen: "not chosen by the bootloader"
        case let .unknown(text): text
        }
    }
}

/// What tandemd found when it started: how the running boot relates to what was expected.
public struct BootReport: Codable, Sendable, Equatable {
    /// Kept in state.json: a kind an older tandemd does not know decodes to `unknown`.
    public enum Kind: Sendable, Hashable {
        /// Nothing was pending: the booted slot is the good one.
        case normal
        /// The updated slot booted and is on trial, not yet proven.
        case trial
        /// The trial slot was blessed during this boot.
        case blessed
        /// The updated slot did not boot; the bootloader went back to the old one.
        case fallback
        /// No slot is bootable by the GPT rules: the next boot will fail.
        case noBootableSlot
        /// Written by a newer tandemd; the text is kept for display and written back unchanged.
        case unknown(String)
    }

    public var kind: Kind
    public var bootedSlot: SlotName
    /// The version that was being tried (trial, blessed, fallback).
    public var version: String?
    public var reason: FallbackReason?
    public var bootID: String
    /// The boot during which the update was installed.
    public var installBootID: String?
    public var time: Int64
    public var message: String

    public init(kind: Kind, bootedSlot: SlotName, version: String?, reason: FallbackReason?, bootID: String,
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

extension BootReport.Kind: RawRepresentable, Codable, CaseIterable {
    public static let allCases: [BootReport.Kind] = [.normal, .trial, .blessed, .fallback, .noBootableSlot]

    public var isUnknown: Bool {
        if case .unknown = self { true } else { false }
    }

    public init(rawValue: String) {
        self = Self.allCases.first { $0.rawValue == rawValue } ?? .unknown(rawValue)
    }

    public var rawValue: String {
        switch self {
        case .normal: "normal"
        case .trial: "trial"
        case .blessed: "blessed"
        case .fallback: "fallback"
        case .noBootableSlot: "no-bootable-slot"
        case let .unknown(text): text
        }
    }
}
