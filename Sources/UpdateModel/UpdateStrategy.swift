/// What tandemd does on its own when a scheduled check finds an update (`Strategy=`). An
/// update someone asks for (`updatectl update`, `AttemptUpdate`) is installed whatever this says:
/// the strategy is the machine's policy, not a lock on the operator.
public enum UpdateStrategy: String, Sendable, CaseIterable, Codable {
    /// Download, verify and install into the other slot, then wait for a reboot.
    case automatic
    /// Download and verify into the other slot, but leave it unbootable until an operator runs
    /// `updatectl activate`.
    case downloadOnly = "download-only"
    /// Only say that an update is available (D-Bus, `updatectl status`, the journal).
    case checkOnly = "check-only"
    /// No scheduled checks at all.
    case off
}
