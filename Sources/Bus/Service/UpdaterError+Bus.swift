import Engine

extension UpdaterError {
    /// The D-Bus error a caller gets; the message is the description, written for people.
    var busError: BusError {
        let name = switch self {
        case .busy: UpdaterAPI.ErrorName.busy
        case .notBusy: UpdaterAPI.ErrorName.notRunning
        case .noSource: UpdaterAPI.ErrorName.noSource
        case .noUpdate: UpdaterAPI.ErrorName.noUpdate
        case .invalidArgument: BusError.invalidArgs
        case .refused: UpdaterAPI.ErrorName.refused
        case .noRebootPending: UpdaterAPI.ErrorName.noRebootPending
        case .updateConfiguration, .hostFacts, .bundleCheck, .updateServer, .stagedRecordDamaged, .bootState, .rebootLockRead,
             .rebootLockRelease, .graceTimer, .slots, .state, .notRecorded, .startup: UpdaterAPI.ErrorName.failed
        }
        return BusError(name: name, message: description)
    }
}
