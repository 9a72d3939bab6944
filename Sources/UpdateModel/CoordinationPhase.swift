/// What the reboot coordinator is doing: the `phase` of the `Coordination` property and of
/// `updatectl status --json`. The raw values are that wire format; `displayText` is for people.
public enum CoordinationPhase: String, Sendable, CaseIterable {
    case idle
    case waitingForWindow = "waiting-for-window"
    case waitingForLock = "waiting-for-lock"
    case rebooting
    /// The lock is held across the reboot, until the new version is blessed (or, after a
    /// fallback, until someone releases it).
    case holding
    case releasing
    /// Another coordinator (locksmithd) holds coordinator.conf, or tandemd could not take it:
    /// tandemd takes no reboot lock and never reboots on its own.
    case standingDown = "standing-down"

    public var displayText: String {
        switch self {
        case .idle: "idle"
        case .waitingForWindow: "waiting for the reboot window"
        case .waitingForLock: "waiting for the fleet's reboot lock"
        case .rebooting: "rebooting"
        case .holding: "holding the fleet's reboot lock"
        case .releasing: "giving back the fleet's reboot lock"
        case .standingDown: "standing down: another coordinator reboots this host"
        }
    }
}
