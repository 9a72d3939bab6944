import BusCore
import Engine

/// Checks the sender of a mutating call against the admin policy, from the credentials the bus
/// vouches for (not from anything the caller says). The D-Bus policy files say the same; this
/// check holds even where those are missing or loosened.
struct Authorizer {
    let policy: AdminPolicy

    /// The caller's uid when allowed; otherwise replies AccessDenied, naming who may do it, and returns nil.
    func authorize(_ call: BusMethodCall, action: String) -> UInt32? {
        let credentials: BusCredentials
        do {
            credentials = try call.credentials()
        } catch {
            call.fail(BusError(name: BusError.accessDenied,
                               message: "\(action) was refused: the caller's credentials cannot be established (\(error.message))"))
            return nil
        }
        guard policy.permits(uid: credentials.uid, gid: credentials.gid, groups: credentials.groups) else {
            call.fail(BusError(name: BusError.accessDenied, message: policy.denial(action: action, uid: credentials.uid)))
            return nil
        }
        return credentials.uid
    }
}
