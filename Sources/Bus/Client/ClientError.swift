import BusCore
import UpdateModel

/// What went wrong talking to tandemd, sorted by what the user does about it (updatectl
/// turns each into its own exit status, docs/updatectl.md).
public enum ClientError: Error, CustomStringConvertible, Equatable {
    case notRunning(String)
    case permissionDenied(String)
    case busy(String)
    case noUpdate(String)
    case failed(String)

    public var description: String {
        switch self {
        case let .notRunning(message), let .permissionDenied(message), let .busy(message), let .noUpdate(message),
             let .failed(message):
            message
        }
    }

    init(_ error: BusError) {
        switch error.name {
        case BusError.serviceUnknown, BusError.nameHasNoOwner, BusError.noReply, BusError.disconnected, BusError.unknownObject:
            self = .notRunning("tandemd is not running (\(error.message.isEmpty ? error.name : error.message)): "
                + "systemctl start tandemd")
        case BusError.accessDenied:
            self = .permissionDenied(error.message.isEmpty ? "permission denied: run it with sudo" : error.message)
        default:
            switch UpdaterErrorName(rawValue: error.name) {
            case .busy?:
                self = .busy(error.message)
            case .noUpdate?, .noRebootPending?:
                self = .noUpdate(error.message)
            default:
                self = .failed(error.message.isEmpty ? error.name : error.message)
            }
        }
    }
}
