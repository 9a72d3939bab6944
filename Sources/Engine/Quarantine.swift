import UpdateModel
import Verification

/// The versions that failed to boot on this host. Updates skip them until a newer version
/// appears, an administrator lets one in again (`updatectl unquarantine`), or an install is
/// forced. The one owner of the rules: versions match as versions (2.0 is 2.0.0), a second
/// fallback of a version replaces its entry, and what a refusal says. A value kept in the saved
/// state (as a JSON array of entries) and changed only through its commit.
public struct Quarantine: Equatable, Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    public private(set) var entries: [QuarantinedVersion]

    public init(_ entries: [QuarantinedVersion] = []) {
        self.entries = entries
    }

    public init(arrayLiteral entries: QuarantinedVersion...) {
        self.init(entries)
    }

    public var startIndex: Int { entries.startIndex }
    public var endIndex: Int { entries.endIndex }
    public subscript(position: Int) -> QuarantinedVersion { entries[position] }

    /// The entry for `version`, if it failed to boot here.
    func entry(for version: String) -> QuarantinedVersion? {
        let wanted = OSVersion(version)
        return entries.first { OSVersion($0.version) == wanted }
    }

    /// Records that `entry.version` failed to boot, replacing what an earlier fallback of the
    /// same version recorded.
    mutating func add(_ entry: QuarantinedVersion) {
        remove(entry.version)
        entries.append(entry)
    }

    /// Lets `version` be installed again; returns whether it was quarantined.
    @discardableResult
    mutating func remove(_ version: String) -> Bool {
        let wanted = OSVersion(version)
        let before = entries.count
        entries.removeAll { OSVersion($0.version) == wanted }
        return entries.count != before
    }

    /// What an offer of a quarantined version comes to.
    enum Verdict: Equatable, Sendable {
        case allowed
        /// Quarantined, but the install was forced.
        case overridden(QuarantinedVersion)
        case refused(QuarantinedVersion)
    }

    func verdict(for version: String, force: Bool) -> Verdict {
        guard let entry = entry(for: version) else { return .allowed }
        return force ? .overridden(entry) : .refused(entry)
    }

    /// Why an install of a quarantined version was refused, before anything was written.
    static func installRefusal(_ entry: QuarantinedVersion) -> String {
        "version \(entry.version) is quarantined: it failed to boot from slot \(entry.slot.rawValue) "
            + "(\(entry.reason.displayText)); nothing was written; install it anyway with --force, or "
            + "updatectl unquarantine \(entry.version)"
    }

    /// What a check says of an offer it skips: `offer` names it ("https://… offers version 3.0").
    static func skipped(_ offer: String, _ entry: QuarantinedVersion) -> String {
        "\(offer), which is quarantined since it failed to boot (\(entry.reason.displayText)); it is skipped until a "
            + "newer version appears (override: updatectl update --force, or updatectl unquarantine \(entry.version))"
    }
}
