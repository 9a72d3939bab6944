import Bootloaders
import FoundationEssentials
import Omaha
import Slots
import Verification

/// Everything tandemd can be told, from `/etc/tandem/tandem.conf` and then the command line.
/// Every key is documented in docs/configuration.md; the defaults are what a Flatcar-style
/// host needs with no file at all.
public struct Configuration: Sendable, Equatable {
    public static let defaultPath = "/etc/tandem/tandem.conf"

    // [Slots]
    /// The disk holding both slots; nil: the disk the system booted from.
    public var disk: String?
    /// The booted slot (A, B or a label); nil: detected from the kernel command line or /usr.
    public var bootedSlot: String?
    public var layout = SlotLayout.flatcar
    /// Which bootloader interface holds the slots' boot state (`Backend=`), where its files
    /// live (`ESP=`; nil: found mounted) and the custom backend's executable (`Hook=`).
    public var boot = BootBackendSettings()

    // [Update]
    /// Where `Check()` and `updatectl update` without a source look: a bundle path or URL.
    public var source: String?
    public var keyDirectories = TrustStore.defaultDirectories
    public var verifyReadback = true
    public var directIO = true
    public var checkpointInterval: UInt64 = 64 << 20
    public var trialTries: UInt8 = 1
    public var caBundle: String?
    public var connectTimeoutSeconds = 30
    /// The Omaha server (`url(…)` or `disabled`); nil: update.conf's SERVER, if any.
    public var server: OmahaServerSetting?
    /// The group (Omaha `track`); nil: update.conf's GROUP, else `stable`.
    public var group: String?
    /// nil: update.conf's FLATCAR_RELEASE_APPID, else Flatcar's application id.
    public var appID: String?
    /// nil: update.conf's MACHINE_ALIAS, else none.
    public var machineAlias: String?
    public var strategy = UpdateStrategy.automatic
    public var checkIntervalSeconds = CheckSchedule.defaultIntervalSeconds
    public var checkJitterSeconds = CheckSchedule.defaultJitterSeconds
    public var firstCheckDelaySeconds = CheckSchedule.defaultInitialDelaySeconds
    /// The longest an exchange with the Omaha server may take, a slow answer included.
    public var requestTimeoutSeconds = 60

    // [Host]
    /// os-release, for `compatible` (TANDEM_COMPATIBLE or ID) and the running version (VERSION_ID).
    public var osRelease = "/etc/os-release"
    public var compatible: String?
    public var version: String?

    /// Where the kernel's boot id is read. Disk-image setups that simulate reboots (tests, the
    /// demo) point it at a file they rewrite per simulated boot.
    public var bootIDFile = "/proc/sys/kernel/random/boot_id"
    /// Prefix for the files update_engine reads (update.conf, release, oem-release,
    /// machine-id): empty for the running system; a directory for disk-image setups and tests.
    public var root = ""

    // [Boot]
    /// A trial boot is blessed no earlier than this many seconds after the kernel started,
    /// however early boot-complete.target is reached.
    public var blessGraceSeconds = 0

    // [Reboot]
    public var reboot = RebootSettings()

    // [Daemon]
    public var stateDirectory = "/var/lib/tandem"
    /// Besides root, members of this group may change things (install, cancel, mark, reboot).
    public var adminGroup: String? = "wheel"
    /// Whether an install interrupted by a crash or shutdown continues when tandemd starts.
    public var resumeInterrupted = true

    /// The sections and keys this version does not know, in file order: each was skipped, and
    /// tandemd logs a warning for each at its start. Not an error, as systemd does with unit
    /// files: after a fallback the older tandemd must start with the /etc a newer one was
    /// configured with, or the host could never update itself again.
    public var ignored: [ConfigurationError] = []

    public init() {}

    /// Reads `path`, then its drop-ins (`ConfigurationDropIns`), later settings winning. A
    /// missing file at the default path means "all defaults"; a missing file named explicitly is
    /// an error, because the caller meant something by it. `dropInDirectories` nil: the
    /// standard ones for `path`.
    public static func load(path: String = Configuration.defaultPath, required: Bool = false,
                            dropInDirectories: [String]? = nil) throws(ConfigurationError) -> Configuration {
        var files: [(path: String, text: String)] = []
        if let text = try read(path, missingIsEmpty: !required) { files.append((path, text)) }
        for dropIn in ConfigurationDropIns.files(in: dropInDirectories ?? ConfigurationDropIns.directories(forMainFile: path)) {
            if let text = try read(dropIn, missingIsEmpty: false) { files.append((dropIn, text)) }
        }
        // Every file's syntax first, so a broken drop-in is reported before a bad value.
        var entries: [ConfigurationFile.Entry] = []
        var configuration = Configuration()
        for file in files {
            let parsed = try ConfigurationFile.parse(file.text, path: file.path)
            entries += parsed.entries
            configuration.ignored += parsed.ignored
        }
        for entry in entries {
            try configuration.apply(entry)
        }
        try configuration.reboot.validated(path: path)
        if configuration.boot.kind == .custom, configuration.boot.hook == nil {
            throw .conflict(path: path, message: "Backend=custom in [Slots] needs Hook=, the executable that reads and "
                + "writes the boot state (docs/slots.md)")
        }
        if configuration.source != nil, case .url? = configuration.server {
            throw .conflict(path: path, message: "Source= and Server= are both set in [Update]; set one: Source= for a bundle "
                + "path or URL, Server= for an Omaha server such as Nebraska")
        }
        return configuration
    }

    /// The text of `path`; nil if it is missing and that is allowed.
    private static func read(_ path: String, missingIsEmpty: Bool) throws(ConfigurationError) -> String? {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let exists = FileManager.default.fileExists(atPath: path)
            if missingIsEmpty, !exists { return nil }
            throw .unreadable(path: path, reason: exists ? "permission denied or not UTF-8" : "no such file")
        }
    }
}
