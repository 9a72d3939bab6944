/// A state.json that could not be read at all, moved aside so that tandemd could start (and
/// bless the boot) with a fresh state.
public struct StateRecovery: Codable, Sendable, Equatable {
    /// Where the unreadable file is now.
    public var movedTo: String
    public var reason: String
    public var time: Int64
    /// The boot during which it happened: status reports it during that boot only.
    public var bootID: String

    public init(movedTo: String, reason: String, time: Int64, bootID: String) {
        self.movedTo = movedTo
        self.reason = reason
        self.time = time
        self.bootID = bootID
    }
}
