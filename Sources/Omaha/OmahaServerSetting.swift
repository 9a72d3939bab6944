/// What update.conf's `SERVER` says.
public enum OmahaServerSetting: Hashable, Sendable {
    /// The Omaha endpoint to post requests to.
    case url(String)
    /// `SERVER=disabled`, Flatcar's convention (`flatcar-update -A`) for a machine that must not
    /// update itself. update_engine has no such case: it posts to "disabled" and fails every
    /// check. An empty `SERVER=` fails the same way, so it means the same.
    case disabled

    /// The server update_engine uses when no file sets `SERVER` (`kProductionOmahaUrl`).
    public static let production = OmahaServerSetting.url("https://public.update.flatcar-linux.net/v1/update/")

    public init(_ value: String) {
        self = value.isEmpty || value == "disabled" ? .disabled : .url(value)
    }
}
