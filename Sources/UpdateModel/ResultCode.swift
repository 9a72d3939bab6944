/// How a transaction ended, as `Completed` and `LastResult` report it. The numbers are part of
/// the D-Bus API (docs/dbus.md): new codes may be added, existing ones never change meaning.
/// A code an older tandemd does not know (read from a newer one's state.json) is `unknown`.
public enum ResultCode: Sendable, Hashable {
    case success
    case failed
    case cancelled
    /// tandemd stopped (crashed, was killed, or the machine lost power) during the transaction.
    case interrupted
    /// A check found nothing newer than what runs (or is already installed and pending).
    case noUpdate
    /// Not a transaction's end but a boot's: the updated slot did not boot and the bootloader
    /// went back to the old one (see `BootReport`).
    case fellBack
    /// Written by a newer tandemd; the number is kept and written back unchanged.
    case unknown(Int32)

    public var name: String {
        switch self {
        case .success: "success"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .interrupted: "interrupted"
        case .noUpdate: "no-update"
        case .fellBack: "fell-back"
        case let .unknown(code): "result \(code)"
        }
    }
}

extension ResultCode: RawRepresentable, Codable, CaseIterable {
    public static let allCases: [ResultCode] = [.success, .failed, .cancelled, .interrupted, .noUpdate, .fellBack]

    public init(rawValue: Int32) {
        self = Self.allCases.first { $0.rawValue == rawValue } ?? .unknown(rawValue)
    }

    public var rawValue: Int32 {
        switch self {
        case .success: 0
        case .failed: 1
        case .cancelled: 2
        case .interrupted: 3
        case .noUpdate: 4
        case .fellBack: 5
        case let .unknown(code): code
        }
    }
}
