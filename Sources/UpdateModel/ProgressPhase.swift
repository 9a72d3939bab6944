/// The streaming phase of an install, as the `Progress` property reports it.
public enum ProgressPhase: String, Sendable, CaseIterable {
    /// Re-reading the part of the slot a previous attempt wrote, to rebuild the hash.
    case resuming
    /// Streaming the image into the slot.
    case writing
    /// Reading the slot back and hashing it again.
    case verifying
}
