import FoundationEssentials

/// The manifest's `created` field: RFC 3339 in UTC with whole seconds, `2026-11-21T19:00:00Z`,
/// as FoundationEssentials' ISO 8601 style writes it by default.
extension Manifest {
    static let createdStyle = Date.ISO8601FormatStyle()

    static func createdNow() -> String {
        Date().formatted(createdStyle)
    }

    /// The one spelling of each instant, so that the manifest keeps a single encoding: the
    /// text must parse and be exactly what the style writes back for it (no offset, no
    /// fraction, no 31 February rolled into March).
    static func isValidCreated(_ text: String) -> Bool {
        guard let date = try? createdStyle.parse(text) else { return false }
        return createdStyle.format(date) == text
    }
}
