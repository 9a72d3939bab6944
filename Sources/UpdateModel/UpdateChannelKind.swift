/// Where updates come from, as the `UpdateChannel` property and `updatectl status` name it.
public enum UpdateChannelKind: String, Sendable, CaseIterable {
    /// `Source=`: a bundle path or URL.
    case bundle
    /// An Omaha server (tandem.conf or update_engine's files).
    case omaha
    /// `SERVER=disabled`: this machine must not update itself.
    case disabled
    /// Nothing configured.
    case none
}
