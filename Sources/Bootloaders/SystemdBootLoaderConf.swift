import Slots

/// `<ESP>/loader/loader.conf`, where Tandem keeps the one thing its entry names cannot say:
/// which slot comes first. It is a `default` pattern naming the first slot's entry only while
/// that entry is good or has tries left, so that systemd-boot falls back on its own sort order
/// (entries with tries left first) as soon as the slot runs out of tries.
///
/// systemd-boot 252 matches `default` against the whole lowercased file name (the entry id,
/// counter included) with `efi_fnmatch`, and boots the match even when it has no tries left
/// (config_default_entry_select does not look at the counter). A pattern such as
/// `tandem-a*` would therefore keep booting a slot that failed; `[.+][1-9c]` after the slot's
/// stem matches `tandem-a.conf` and `tandem-a+N-D.conf` for N from 1, and not `tandem-a+0…`.
public struct SystemdBootLoaderConf: Equatable, Sendable {
    /// Every line as read; a rewrite keeps the ones that are not `default`.
    public var lines: [Substring]
    /// The slot named by the last `default` line (systemd-boot uses the last), nil without one.
    public var first: SlotName?

    public static let fileName = "loader.conf"

    /// What `updatectl disk init-boot` writes besides the `default` line: no menu (a key press
    /// still opens it), no editor that could change the command line.
    public static let initialLines: [Substring] = [
        "# Written by Tandem: the default line names the slot that boots first; Tandem rewrites it.",
        "timeout 0",
        "editor no",
    ]

    public static func pattern(for slot: SlotName) -> String {
        SystemdBootEntryName.stem(of: slot) + "[.+][1-9c]*"
    }

    /// Why a loader.conf cannot be used: its `default` is not one of Tandem's, so systemd-boot's
    /// choice cannot be predicted.
    public struct ForeignDefault: Error, Equatable {
        public var value: String
    }

    public init(lines: [Substring], first: SlotName?) {
        self.lines = lines
        self.first = first
    }

    public static func parse(_ text: String) throws(ForeignDefault) -> SystemdBootLoaderConf {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: SystemdBootConfigLines.isLineBreak)
        let defaults = SystemdBootConfigLines.parse(Substring(text)).filter { $0.key == "default" }
        guard let last = defaults.last else {
            return SystemdBootLoaderConf(lines: lines, first: nil)
        }
        guard let slot = SlotName.allCases.first(where: { pattern(for: $0) == last.value.lowercased() }) else {
            throw ForeignDefault(value: String(last.value))
        }
        return SystemdBootLoaderConf(lines: lines, first: slot)
    }

    /// The file with `first`'s `default` line in place of every earlier `default` line.
    public func rendered(first: SlotName) -> String {
        var kept = lines.filter { line in
            !SystemdBootConfigLines.parse(line).contains { $0.key == "default" }
        }
        while let last = kept.last, last.isEmpty { kept.removeLast() }
        return (kept + ["default " + Self.pattern(for: first)]).joined(separator: "\n") + "\n"
    }
}
