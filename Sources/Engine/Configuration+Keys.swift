import Coordination
import Omaha
import Slots

extension Configuration {
    /// Every key tandem.conf may contain, each declared exactly once, in the order
    /// docs/configuration.md lists them. Cross-key rules (Backend=custom needs Hook=, a reboot
    /// window needs both ends) are checked after all files are read, in `load`.
    static let keys: [ConfigurationKey] = [
        .text("Slots", "Disk", \.disk),
        .text("Slots", "BootedSlot", \.bootedSlot),
        .name("Slots", "LabelA", "a partition label", \.layout.labelA),
        .name("Slots", "LabelB", "a partition label", \.layout.labelB),
        .choice("Slots", "Backend", \.boot.kind),
        .optionalPath("Slots", "ESP", "an absolute path, or nothing to find the ESP mounted", \.boot.esp),
        .optionalPath("Slots", "Hook", "the absolute path of an executable", \.boot.hook),

        .text("Update", "Source", \.source),
        .list("Update", "KeysDirectory", "one or more directories, separated by spaces", \.keyDirectories),
        .flag("Update", "VerifyReadback", \.verifyReadback),
        .flag("Update", "DirectIO", \.directIO),
        ConfigurationKey("Update", "CheckpointInterval") { configuration, value throws(ConfigurationKey.Rejection) in
            guard let bytes = ConfigurationFile.size(value), bytes >= 1 << 20 else {
                throw .init(expected: "a size of at least 1M, such as 64M")
            }
            configuration.checkpointInterval = bytes
        },
        ConfigurationKey("Update", "TrialTries") { configuration, value throws(ConfigurationKey.Rejection) in
            guard let tries = UInt8(value), (1...BootAttributes.maximumTries).contains(tries) else {
                throw .init(expected: "a number of boot attempts from 1 to \(BootAttributes.maximumTries)")
            }
            configuration.trialTries = tries
        },
        .text("Update", "CABundle", \.caBundle),
        .seconds("Update", "ConnectTimeoutSec", 1...Int.max, \.connectTimeoutSeconds),
        ConfigurationKey("Update", "Server") { configuration, value throws(ConfigurationKey.Rejection) in
            let setting = OmahaServerSetting(value)
            if case let .url(url) = setting {
                let lowered = url.lowercased()
                guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
                    throw .init(expected: "an http:// or https:// URL of an Omaha server, or disabled")
                }
            }
            configuration.server = setting
        },
        // Empty: taken from update.conf, as documented (and as the complete example sets them).
        .text("Update", "Group", \.group),
        .text("Update", "AppID", \.appID),
        // Empty is a value here: no alias, even if update.conf names one.
        ConfigurationKey("Update", "MachineAlias") { configuration, value in configuration.machineAlias = value },
        .choice("Update", "Strategy", \.strategy),
        .seconds("Update", "CheckIntervalSec", CheckSchedule.minimumIntervalSeconds...Int.max, \.checkIntervalSeconds),
        .seconds("Update", "CheckJitterSec", 0...Int.max, \.checkJitterSeconds),
        .seconds("Update", "FirstCheckDelaySec", 0...Int.max, \.firstCheckDelaySeconds),
        .seconds("Update", "RequestTimeoutSec", 1...Int.max, \.requestTimeoutSeconds),

        .path("Host", "OSRelease", \.osRelease),
        .text("Host", "Compatible", \.compatible),
        .text("Host", "Version", \.version),
        .path("Host", "BootIDFile", \.bootIDFile),
        ConfigurationKey("Host", "Root") { configuration, value throws(ConfigurationKey.Rejection) in
            guard value.isEmpty || value.hasPrefix("/") else { throw .init(expected: "an absolute path, or nothing for /") }
            configuration.root = value.hasSuffix("/") ? String(value.dropLast()) : value
        },

        .seconds("Boot", "BlessGraceSec", 0...Int.max, \.blessGraceSeconds),

        ConfigurationKey("Reboot", "Strategy") { configuration, value throws(ConfigurationKey.Rejection) in
            // Empty resets to the default, as for every key; locksmith's "empty means reboot"
            // applies to its REBOOT_STRATEGY, not to this file.
            guard let strategy = value.isEmpty ? .off : RebootStrategy(rawValue: value) else {
                throw .init(expected: RebootStrategy.allCases.map(\.rawValue).joined(separator: ", "))
            }
            configuration.reboot.strategy = strategy
        },
        .text("Reboot", "WindowStart", \.reboot.windowStart),
        .text("Reboot", "WindowLength", \.reboot.windowLength),
        .text("Reboot", "Group", \.reboot.group),
        .list("Reboot", "EtcdEndpoints", "one or more http(s):// URLs, separated by spaces", \.reboot.etcdEndpoints),
        .choice("Reboot", "EtcdAPI", \.reboot.etcdAPI),
        .text("Reboot", "EtcdCAFile", \.reboot.etcdCAFile),
        .text("Reboot", "EtcdCertFile", \.reboot.etcdCertFile),
        .text("Reboot", "EtcdKeyFile", \.reboot.etcdKeyFile),
        .text("Reboot", "EtcdUsername", \.reboot.etcdUsername),
        .text("Reboot", "EtcdPassword", \.reboot.etcdPassword),
        .text("Reboot", "FleetLockURL", \.reboot.fleetLockURL),
        .path("Reboot", "CoordinatorConf", \.reboot.coordinatorConf),
        .seconds("Reboot", "LockRetrySec", 1...Int.max, \.reboot.lockRetrySeconds),

        .path("Daemon", "StateDirectory", \.stateDirectory),
        .text("Daemon", "AdminGroup", \.adminGroup),
        .flag("Daemon", "ResumeInterrupted", \.resumeInterrupted),
    ]

    /// The sections and keys the file may contain, in the table's order, for error messages.
    public static let knownKeys: [String: [String]] = keys.reduce(into: [:]) { sections, key in
        sections[key.section, default: []].append(key.name)
    }

    /// The table indexed by (section, key).
    static let keysBySectionAndName: [String: ConfigurationKey] = Dictionary(
        keys.map { ("\($0.section)/\($0.name)", $0) }, uniquingKeysWith: { first, _ in first })

    /// Applies one assignment; a key this version does not know is kept in `ignored`.
    mutating func apply(_ entry: ConfigurationFile.Entry) throws(ConfigurationError) {
        guard let key = Self.keysBySectionAndName["\(entry.section)/\(entry.key)"] else {
            ignored.append(.unknownKey(path: entry.path, line: entry.line, section: entry.section, key: entry.key))
            return
        }
        do {
            try key.apply(&self, entry.value)
        } catch {
            throw .invalidValue(path: entry.path, line: entry.line, key: entry.key, value: entry.value,
                                expected: error.expected)
        }
    }
}
