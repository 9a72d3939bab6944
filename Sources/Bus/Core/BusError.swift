import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// A D-Bus error: what a remote method call failed with, what this process replies with, and
/// what a failing sd-bus call becomes. The name is the machine-readable part; the message is
/// for a person.
public struct BusError: Error, CustomStringConvertible, Sendable, Equatable {
    public var name: String
    public var message: String

    public init(name: String, message: String) {
        self.name = name
        self.message = message
    }

    public var description: String {
        message.isEmpty ? name : "\(message) (\(name))"
    }

    /// An sd-bus call that returned a negative errno: says what failed and why. The name is
    /// the one sd-bus itself gives that errno (AccessDenied for EACCES, System.Error.ENOENT …),
    /// so a caller can match on it whether the failure was local or remote.
    public static func errno(_ code: Int32, _ what: String) -> BusError {
        let positive = code < 0 ? -code : code
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        sd_bus_error_set_errno(&error, positive)
        let name = error.name.map { String(cString: $0) } ?? failed
        return BusError(name: name, message: "\(what) failed: \(String(cString: strerror(positive)))")
    }

    /// The error an sd-bus call filled in, or one made from its return code when it left the
    /// error empty.
    static func from(_ error: sd_bus_error, code: Int32, what: String) -> BusError {
        guard let name = error.name else { return .errno(code, what) }
        return BusError(name: String(cString: name), message: error.message.map { String(cString: $0) } ?? "")
    }

    public static let failed = "org.freedesktop.DBus.Error.Failed"
    public static let noMemory = "org.freedesktop.DBus.Error.NoMemory"
    public static let serviceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
    public static let nameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
    public static let noReply = "org.freedesktop.DBus.Error.NoReply"
    public static let timeout = "org.freedesktop.DBus.Error.Timeout"
    public static let disconnected = "org.freedesktop.DBus.Error.Disconnected"
    public static let invalidArgs = "org.freedesktop.DBus.Error.InvalidArgs"
    public static let invalidSignature = "org.freedesktop.DBus.Error.InvalidSignature"
    public static let accessDenied = "org.freedesktop.DBus.Error.AccessDenied"
    public static let notSupported = "org.freedesktop.DBus.Error.NotSupported"
    public static let limitsExceeded = "org.freedesktop.DBus.Error.LimitsExceeded"
    public static let unknownMethod = "org.freedesktop.DBus.Error.UnknownMethod"
    public static let unknownObject = "org.freedesktop.DBus.Error.UnknownObject"
    public static let unknownInterface = "org.freedesktop.DBus.Error.UnknownInterface"
    public static let unknownProperty = "org.freedesktop.DBus.Error.UnknownProperty"
    public static let propertyReadOnly = "org.freedesktop.DBus.Error.PropertyReadOnly"
    public static let interactiveAuthorizationRequired = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
}
