import Slots

/// What the update server offered, kept with a transaction so that an install resumed after a
/// restart still checks the server's size and digest and still reports its events.
public struct UpdateOffer: Codable, Sendable, Equatable {
    public var version: String
    public var size: UInt64
    /// The whole package's SHA-256, base64, as Omaha sends it.
    public var sha256: String
    public var server: String

    public init(version: String, size: UInt64, sha256: String, server: String) {
        self.version = version
        self.size = size
        self.sha256 = sha256
        self.server = server
    }
}

/// How the last check ended, for `LastCheck` on D-Bus and `updatectl status`.
public struct CheckRecord: Codable, Sendable, Equatable {
    /// Kept in state.json: a result an older tandemd does not know decodes to `unknown`.
    public enum Result: Sendable, Hashable {
        case updateAvailable
        case noUpdate
        /// The server asked to come back later (Nebraska's rollout policy), or the offer was skipped.
        case deferred
        case failed
        /// A ping only: an update waits for a reboot, or the booted version is still on trial.
        case pinged
        /// Written by a newer tandemd; the text is kept for display and written back unchanged.
        case unknown(String)
    }

    public var time: Int64
    public var result: Result
    /// The version offered, if any.
    public var version: String
    public var message: String

    public init(time: Int64, result: Result, version: String, message: String) {
        self.time = time
        self.result = result
        self.version = version
        self.message = message
    }
}

/// An image downloaded and verified into the other slot by the download-only strategy, left
/// unbootable until `updatectl activate`.
public struct StagedUpdate: Codable, Sendable, Equatable {
    public var slot: SlotName
    public var version: String
    public var size: UInt64
    /// The image's SHA-256 (hex), re-checked against the slot before it is activated.
    public var sha256: String
    public var time: Int64
    public var offer: UpdateOffer?

    public init(slot: SlotName, version: String, size: UInt64, sha256: String, time: Int64, offer: UpdateOffer? = nil) {
        self.slot = slot
        self.version = version
        self.size = size
        self.sha256 = sha256
        self.time = time
        self.offer = offer
    }
}

extension CheckRecord.Result: RawRepresentable, Codable, CaseIterable {
    public static let allCases: [CheckRecord.Result] = [.updateAvailable, .noUpdate, .deferred, .failed, .pinged]

    public init(rawValue: String) {
        self = Self.allCases.first { $0.rawValue == rawValue } ?? .unknown(rawValue)
    }

    public var rawValue: String {
        switch self {
        case .updateAvailable: "update-available"
        case .noUpdate: "no-update"
        case .deferred: "deferred"
        case .failed: "failed"
        case .pinged: "pinged"
        case let .unknown(text): text
        }
    }
}
