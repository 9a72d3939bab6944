/// How a transaction ended, as `Completed` and `LastResult` report it. The numbers are part of
/// the D-Bus API (docs/dbus.md): new codes may be added, existing ones never change meaning.
public enum ResultCode: Int32, Sendable, Codable, CaseIterable {
    case success = 0
    case failed = 1
    case cancelled = 2
    /// tandemd stopped (crashed, was killed, or the machine lost power) during the transaction.
    case interrupted = 3
    /// A check found nothing newer than what runs (or is already installed and pending).
    case noUpdate = 4
    /// Not a transaction's end but a boot's: the updated slot did not boot and the bootloader
    /// went back to the old one (see `BootReport`).
    case fellBack = 5

    public var name: String {
        switch self {
        case .success: "success"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .interrupted: "interrupted"
        case .noUpdate: "no-update"
        case .fellBack: "fell-back"
        }
    }
}
