import Slots

/// A version that failed to boot, refused by later installs until someone unquarantines it.
public struct QuarantinedVersion: Codable, Sendable, Equatable {
    public var version: String
    public var reason: FallbackReason
    public var slot: SlotName
    /// The boot that fell back.
    public var bootID: String
    public var time: Int64

    public init(version: String, reason: FallbackReason, slot: SlotName, bootID: String, time: Int64) {
        self.version = version
        self.reason = reason
        self.slot = slot
        self.bootID = bootID
        self.time = time
    }
}
