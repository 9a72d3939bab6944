/// The D-Bus errors `org.tandem.Updater1` replies with (docs/dbus.md). They are an interface:
/// never rename one. Errors from the bus itself (access denied, no such name) are not here.
public enum UpdaterErrorName: String, Sendable, CaseIterable {
    case busy = "org.tandem.Updater1.Error.Busy"
    case notRunning = "org.tandem.Updater1.Error.NotRunning"
    case noSource = "org.tandem.Updater1.Error.NoSource"
    case noUpdate = "org.tandem.Updater1.Error.NoUpdate"
    case refused = "org.tandem.Updater1.Error.Refused"
    case noRebootPending = "org.tandem.Updater1.Error.NoRebootPending"
    case failed = "org.tandem.Updater1.Error.Failed"
}
