import Coordination
import Omaha
import Slots
import Streaming

/// Why tandemd refused or could not do what was asked. The D-Bus layer maps each case to an
/// error name (docs/dbus.md); the descriptions are shown to users as they are.
public enum UpdaterError: Error, CustomStringConvertible {
    case busy(transaction: String, operation: UpdateOperation, source: String)
    case notBusy
    case noSource
    case noUpdate(String)
    case invalidArgument(String)
    /// A mark, rollback or reboot that would leave the machine worse off, with the reason.
    case refused(String)
    case noRebootPending
    /// update.conf (or the `[Update]` files) could not be read.
    case updateConfiguration(OmahaHostError)
    /// The facts an Omaha request carries (machine id, os-release) could not be read.
    case hostFacts(OmahaHostError)
    /// The configured bundle could not be looked at.
    case bundleCheck(source: String, InstallError)
    /// The update server did not answer a check, or a ping.
    case updateServer(OmahaClientError, pinging: Bool)
    /// The record of the staged update names no slot this tandemd knows.
    case stagedRecordDamaged(slot: SlotName)
    /// The boot flags could not be written.
    case bootState(reason: String)
    case rebootLockRead(RebootLockError)
    case rebootLockRelease(RebootLockError)
    /// The bless timer could not be armed on the event loop.
    case graceTimer(reason: String)
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
        case let .updateConfiguration(error):
            "cannot read the update configuration: \(error)"
        case let .hostFacts(error):
            "cannot check for updates: \(error)"
        case let .bundleCheck(source, .stream(error)), let .bundleCheck(source, .sourceUnavailable(error)):
            // A check writes nothing: what an install's stream error adds about the target is not so here.
            "cannot check \(source): \(error)"
        case let .bundleCheck(source, error):
            "cannot check \(source): \(error)"
        case let .updateServer(error, pinging):
            pinging ? "cannot ping the update server: \(error)" : "cannot check for updates: \(error)"
        case let .stagedRecordDamaged(slot):
            "the staged update's record is damaged (slot \(slot.rawValue)); install it again: updatectl update"
        case let .bootState(reason):
            "cannot change the boot flags: \(reason)"
        case let .rebootLockRead(error):
            "cannot read the reboot lock: \(error)"
        case let .rebootLockRelease(error):
            "cannot release the reboot lock: \(error)"
        case let .graceTimer(reason):
            "cannot wait for the grace period: \(reason)"
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
