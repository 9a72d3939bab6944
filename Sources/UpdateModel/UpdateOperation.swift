/// What tandemd is doing, as the native `Operation` property reports it.
public enum UpdateOperation: String, Sendable, CaseIterable {
    case idle
    /// Looking at the configured source for something newer.
    case checking
    /// Reading and verifying the bundle's signed manifest, and checking the target slot.
    case preparing
    /// Re-hashing what an interrupted attempt already wrote.
    case resuming
    /// Streaming the image into the target slot.
    case writing
    /// Reading the slot back and hashing it again.
    case verifying
    /// Recording the result and the pending reboot. (The slot was put on trial at the end of
    /// `verifying`, the last step of the install itself.)
    case finalizing

}

/// Bytes moved in the current phase, as the `Progress` property reports it.
public struct ProgressReport: Sendable, Equatable {
    /// Nil outside a streaming phase.
    public var phase: ProgressPhase?
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var bytesPerSecond: Double
    /// Nil until a rate is known.
    public var secondsRemaining: Double?

    public static let none = ProgressReport(phase: nil, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, secondsRemaining: nil)

    public init(phase: ProgressPhase?, bytesDone: UInt64, bytesTotal: UInt64, bytesPerSecond: Double, secondsRemaining: Double?) {
        self.phase = phase
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.bytesPerSecond = bytesPerSecond
        self.secondsRemaining = secondsRemaining
    }

}
