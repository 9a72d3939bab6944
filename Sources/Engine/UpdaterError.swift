import Slots

/// Why tandemd refused or could not do what was asked. The D-Bus layer maps each case to an
/// error name (docs/dbus.md); the descriptions are shown to users as they are.
public enum UpdaterError: Error, CustomStringConvertible, Equatable {
    case busy(transaction: String, operation: UpdateOperation, source: String)
    case notBusy
    case noSource
    case noUpdate(String)
    case invalidArgument(String)
    /// A mark, rollback or reboot that would leave the machine worse off, with the reason.
    case refused(String)
    case noRebootPending
    case failed(String)
    case slots(SlotError)
    case state(StateError)
    /// What was asked for was done (the message says what), but the state that goes with it could
    /// not be saved: memory, like the disk, still holds the state from before.
    case notRecorded(done: String, StateError)
    case startup(String)

    public var description: String {
        switch self {
        case let .busy(transaction, operation, source):
            "busy: transaction \(transaction) is \(operation.rawValue) (\(source)); wait for it, or cancel it with updatectl cancel"
        case .notBusy:
            "no install is running, so there is nothing to cancel"
        case .noSource:
            "no update source is configured: set Source= in [Update] of /etc/tandem/tandem.conf, or name a bundle: updatectl update SOURCE"
        case let .noUpdate(message):
            message
        case let .invalidArgument(message):
            message
        case let .refused(reason):
            reason
        case .noRebootPending:
            "no update is waiting for a reboot; use --force to reboot anyway"
        case let .failed(message):
            message
        case let .slots(error):
            "\(error)"
        case let .state(error):
            "\(error)"
        case let .notRecorded(done, error):
            "\(done); but tandemd could not record it: \(error)"
        case let .startup(message):
            message
        }
    }
}
