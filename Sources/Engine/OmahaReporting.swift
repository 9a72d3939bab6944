/// What update_engine keeps in its prefs to tell the server how the last update went.
public struct OmahaReporting: Codable, Sendable, Equatable {
    /// The version that ran when an update was installed. nil: never known, sent as `0.0.0.0`;
    /// `""`: already reported, as update_engine clears it once sent.
    public var previousVersion: String?
    /// A fallback was detected at boot and is not reported yet (`3/0 errorcode="44"`).
    public var rollbackPending = false
    /// The first version this machine ran under Tandem (`alephversion`).
    public var alephVersion: String?

    public init() {}
}
