import BusCore
import Engine

extension UpdaterError {
    /// The D-Bus error a caller gets; the message is the description, written for people.
    var busError: BusError {
        let name: UpdaterErrorName
        switch self {
        case .invalidArgument: return BusError(name: BusError.invalidArgs, message: description)
        case .busy: name = .busy
        case .notBusy: name = .notRunning
        case .noSource: name = .noSource
        case .noUpdate: name = .noUpdate
        case .refused: name = .refused
        case .noRebootPending: name = .noRebootPending
        case .updateConfiguration, .hostFacts, .bundleCheck, .updateServer, .stagedRecordDamaged, .bootState, .rebootLockRead,
             .rebootLockRelease, .graceTimer, .slots, .state, .notRecorded, .startup: name = .failed
        }
        return BusError(name: name.rawValue, message: description)
    }
}
