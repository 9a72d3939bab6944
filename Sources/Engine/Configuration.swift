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

    public init() {}

    /// The sections and keys the file may contain, for error messages and the parser.
    public static let knownKeys: [String: [String]] = [
        "Slots": ["Disk", "BootedSlot", "LabelA", "LabelB", "Backend", "ESP", "Hook"],
        "Update": ["Source", "KeysDirectory", "VerifyReadback", "DirectIO", "CheckpointInterval", "TrialTries",
                   "CABundle", "ConnectTimeoutSec", "Server", "Group", "AppID", "MachineAlias", "Strategy",
                   "CheckIntervalSec", "CheckJitterSec", "FirstCheckDelaySec", "RequestTimeoutSec"],
        "Host": ["OSRelease", "Compatible", "Version", "BootIDFile", "Root"],
        "Boot": ["BlessGraceSec"],
        "Reboot": RebootSettings.keys,
        "Daemon": ["StateDirectory", "AdminGroup", "ResumeInterrupted"],
    ]

    /// Reads `path`. A missing file at the default path means "all defaults"; a missing file
    /// named explicitly is an error, because the caller meant something by it.
    public static func load(path: String = Configuration.defaultPath, required: Bool = false) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            if !required, !FileManager.default.fileExists(atPath: path) { return Configuration() }
            throw .unreadable(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "permission denied or not UTF-8" : "no such file")
        }
        var configuration = Configuration()
        for entry in try ConfigurationFile.parse(text, path: path) {
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

    mutating func apply(_ entry: ConfigurationFile.Entry) throws(ConfigurationError) {
        let value = entry.value
        func invalid(_ expected: String) -> ConfigurationError {
            .invalidValue(path: entry.path, line: entry.line, key: entry.key, value: value, expected: expected)
        }
        func optional(_ value: String) -> String? { value.isEmpty ? nil : value }
        if entry.section == "Reboot", try RebootSettings.apply(entry, to: &reboot, invalid: invalid) { return }
        switch (entry.section, entry.key) {
        case ("Slots", "Disk"): disk = optional(value)
        case ("Slots", "BootedSlot"): bootedSlot = optional(value)
        case ("Slots", "LabelA"):
            guard !value.isEmpty else { throw invalid("a partition label") }
            layout.labelA = value
        case ("Slots", "LabelB"):
            guard !value.isEmpty else { throw invalid("a partition label") }
            layout.labelB = value
        case ("Slots", "Backend"):
            guard let kind = BootBackendKind(rawValue: value) else {
                throw invalid("one of " + BootBackendKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            boot.kind = kind
        case ("Slots", "ESP"):
            guard value.isEmpty || value.hasPrefix("/") else { throw invalid("an absolute path, or nothing to find the ESP mounted") }
            boot.esp = optional(value)
        case ("Slots", "Hook"):
            guard value.isEmpty || value.hasPrefix("/") else { throw invalid("the absolute path of an executable") }
            boot.hook = optional(value)
        case ("Update", "Source"): source = optional(value)
        case ("Update", "KeysDirectory"):
            let directories = value.split(separator: " ").map(String.init)
            guard !directories.isEmpty else { throw invalid("one or more directories, separated by spaces") }
            keyDirectories = directories
        case ("Update", "VerifyReadback"):
            guard let flag = ConfigurationFile.boolean(value) else { throw invalid("yes or no") }
            verifyReadback = flag
        case ("Update", "DirectIO"):
            guard let flag = ConfigurationFile.boolean(value) else { throw invalid("yes or no") }
            directIO = flag
        case ("Update", "CheckpointInterval"):
            guard let bytes = ConfigurationFile.size(value), bytes >= 1 << 20 else { throw invalid("a size of at least 1M, such as 64M") }
            checkpointInterval = bytes
        case ("Update", "TrialTries"):
            guard let tries = UInt8(value), (1...BootAttributes.maximumTries).contains(tries) else {
                throw invalid("a number of boot attempts from 1 to \(BootAttributes.maximumTries)")
            }
            trialTries = tries
        case ("Update", "CABundle"): caBundle = optional(value)
        case ("Update", "ConnectTimeoutSec"):
            guard let seconds = Int(value), seconds > 0 else { throw invalid("a whole number of seconds greater than 0") }
            connectTimeoutSeconds = seconds
        case ("Update", "Server"):
            let setting = OmahaServerSetting(value)
            if case let .url(url) = setting {
                let lowered = url.lowercased()
                guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
                    throw invalid("an http:// or https:// URL of an Omaha server, or disabled")
                }
            }
            server = setting
        // Empty: taken from update.conf, as documented (and as the complete example sets them).
        case ("Update", "Group"): group = optional(value)
        case ("Update", "AppID"): appID = optional(value)
        case ("Update", "MachineAlias"): machineAlias = value
        case ("Update", "Strategy"):
            guard let chosen = UpdateStrategy(rawValue: value) else {
                throw invalid(UpdateStrategy.allCases.map(\.rawValue).joined(separator: ", "))
            }
            strategy = chosen
        case ("Update", "CheckIntervalSec"):
            guard let seconds = Int(value), seconds >= CheckSchedule.minimumIntervalSeconds else {
                throw invalid("a whole number of seconds, at least \(CheckSchedule.minimumIntervalSeconds)")
            }
            checkIntervalSeconds = seconds
        case ("Update", "CheckJitterSec"):
            guard let seconds = Int(value), seconds >= 0 else { throw invalid("a whole number of seconds, 0 or more") }
            checkJitterSeconds = seconds
        case ("Update", "FirstCheckDelaySec"):
            guard let seconds = Int(value), seconds >= 0 else { throw invalid("a whole number of seconds, 0 or more") }
            firstCheckDelaySeconds = seconds
        case ("Update", "RequestTimeoutSec"):
            guard let seconds = Int(value), seconds > 0 else { throw invalid("a whole number of seconds greater than 0") }
            requestTimeoutSeconds = seconds
        case ("Host", "OSRelease"):
            guard value.hasPrefix("/") else { throw invalid("an absolute path") }
            osRelease = value
        case ("Host", "Compatible"): compatible = optional(value)
        case ("Host", "Root"):
            guard value.isEmpty || value.hasPrefix("/") else { throw invalid("an absolute path, or nothing for /") }
            root = value.hasSuffix("/") ? String(value.dropLast()) : value
        case ("Host", "BootIDFile"):
            guard value.hasPrefix("/") else { throw invalid("an absolute path") }
            bootIDFile = value
        case ("Boot", "BlessGraceSec"):
            guard let seconds = Int(value), seconds >= 0 else { throw invalid("a whole number of seconds, 0 or more") }
            blessGraceSeconds = seconds
        case ("Host", "Version"): version = optional(value)
        case ("Daemon", "StateDirectory"):
            guard value.hasPrefix("/") else { throw invalid("an absolute path") }
            stateDirectory = value
        case ("Daemon", "AdminGroup"): adminGroup = optional(value)
        case ("Daemon", "ResumeInterrupted"):
            guard let flag = ConfigurationFile.boolean(value) else { throw invalid("yes or no") }
            resumeInterrupted = flag
        default:
            throw .unknownKey(path: entry.path, line: entry.line, section: entry.section, key: entry.key)
        }
    }
}
