/// What `updatectl status` and the `Coordination` property show.
public struct CoordinationStatus: Sendable, Equatable {
    public var strategy: RebootStrategy
    public var phase: CoordinationPhase
    /// The window as configured, `""` without one.
    public var window: String
    public var lockHeld: Bool
    public var message: String

    public init(strategy: RebootStrategy = .off, phase: CoordinationPhase = .idle, window: String = "", lockHeld: Bool = false,
                message: String = "") {
        self.strategy = strategy
        self.phase = phase
        self.window = window
        self.lockHeld = lockHeld
        self.message = message
    }
}
