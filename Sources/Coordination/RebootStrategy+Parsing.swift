import Platform
import UpdateModel

/// `REBOOT_STRATEGY=` and `[Reboot] Strategy=` as written by people; the enum itself is a wire type.
extension RebootStrategy {
    /// Parses a setting. Empty means `reboot`, as locksmithd treats an empty `REBOOT_STRATEGY`.
    public init(parsing text: String) throws(LockConfigurationError) {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty {
            self = .reboot
            return
        }
        guard let strategy = RebootStrategy(rawValue: trimmed) else { throw .unknownStrategy(trimmed) }
        self = strategy
    }
}
