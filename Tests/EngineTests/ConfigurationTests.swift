import Bootloaders
import Coordination
@testable import Engine
import TestSupport
import Foundation
import Omaha
import Slots
import Testing

/// `Configuration.load(path:required:)` over real files: the syntax, every key, and every way a
/// file is refused, with the file and line in the message.
@Suite struct ConfigurationTests {
    /// Loads `text` from a temporary file, which is named explicitly (required).
    static func load(_ text: String) throws -> Configuration {
        let directory = try Scratch()
        return try Configuration.load(path: try directory.write(text, to: "tandem.conf"), required: true)
    }

    /// The error `text` is refused with, and the path it was written to; records an issue and
    /// returns nil when the text loads.
    static func refusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> (error: ConfigurationError, path: String)? {
        let directory = try Scratch()
        let path = try directory.write(text, to: "tandem.conf")
        do {
            let configuration = try Configuration.load(path: path, required: true)
            Issue.record("loaded, expected a refusal: \(configuration)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return (error, path)
        }
    }

    // MARK: - Defaults and missing files

    @Test func theDefaultsAreWhatAFlatcarHostNeeds() {
        let configuration = Configuration()
        #expect(configuration.disk == nil)
        #expect(configuration.bootedSlot == nil)
        #expect(configuration.layout == SlotLayout.flatcar)
        #expect(configuration.layout.labelA == "USR-A")
        #expect(configuration.layout.labelB == "USR-B")
        #expect(configuration.source == nil)
        #expect(configuration.keyDirectories == ["/etc/tandem/keys.d", "/usr/share/tandem/keys.d"])
        #expect(configuration.verifyReadback)
        #expect(configuration.directIO)
        #expect(configuration.checkpointInterval == 64 << 20)
        #expect(configuration.trialTries == 1)
        #expect(configuration.caBundle == nil)
        #expect(configuration.connectTimeoutSeconds == 30)
        #expect(configuration.osRelease == "/etc/os-release")
        #expect(configuration.compatible == nil)
        #expect(configuration.version == nil)
        #expect(configuration.stateDirectory == "/var/lib/tandem")
        #expect(configuration.adminGroup == "wheel")
        #expect(configuration.resumeInterrupted)
        #expect(Configuration.defaultPath == "/etc/tandem/tandem.conf")
    }

    @Test func aMissingFileAtTheDefaultPathMeansAllDefaults() throws {
        let directory = try Scratch()
        let configuration = try Configuration.load(path: directory.file("absent.conf"), required: false)
        #expect(configuration == Configuration())
    }

    @Test func aMissingFileNamedExplicitlyIsAnError() throws {
        let directory = try Scratch()
        let path = directory.file("absent.conf")
        #expect(throws: ConfigurationError.unreadable(path: path, reason: "no such file")) {
            try Configuration.load(path: path, required: true)
        }
        let error = ConfigurationError.unreadable(path: path, reason: "no such file")
        #expect(error.description == "cannot read the configuration \(path): no such file")
    }

    /// A file that exists but cannot be read is never taken for "no file", even at the default
    /// path: the administrator wrote it, so silently ignoring it would ignore their settings.
    @Test(arguments: [false, true])
    func aFileThatIsNotUTF8IsRefusedEvenWhenOptional(required: Bool) throws {
        let directory = try Scratch()
        let path = directory.file("tandem.conf")
        try Data([0x5B, 0x53, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigurationError.unreadable(path: path, reason: "permission denied or not UTF-8")) {
            try Configuration.load(path: path, required: required)
        }
    }

    @Test func anEmptyFileMeansAllDefaults() throws {
        #expect(try Self.load("") == Configuration())
        #expect(try Self.load("\n\n# nothing but a comment\n; and another\n[Slots]\n[Daemon]\n") == Configuration())
    }

    // MARK: - Every key

    static let everyKey = """
        [Slots]
        Disk=/dev/vda
        BootedSlot=B
        LabelA=ROOT-A
        LabelB=ROOT-B
        Backend=custom
        ESP=/boot/efi
        Hook=/usr/libexec/board-boot-hook

        [Update]
        Source=https://updates.example.com/stable/bundle.tandem
        KeysDirectory=/etc/keys.d /opt/vendor/keys.d /usr/share/keys.d
        VerifyReadback=no
        DirectIO=off
        CheckpointInterval=128M
        TrialTries=3
        CABundle=/etc/ssl/private-ca.pem
        ConnectTimeoutSec=45
        Server=disabled
        Group=alpha
        AppID={11111111-2222-3333-4444-555555555555}
        MachineAlias=edge-7
        Strategy=check-only
        CheckIntervalSec=1800
        CheckJitterSec=300
        FirstCheckDelaySec=60
        RequestTimeoutSec=90

        [Host]
        OSRelease=/usr/lib/os-release
        Compatible=acme-board-v2
        Version=3975.2.1
        BootIDFile=/run/test/boot_id
        Root=/srv/root

        [Boot]
        BlessGraceSec=120

        [Reboot]
        Strategy=etcd-lock
        WindowStart=Sun 04:30
        WindowLength=1h30m
        Group=edge
        EtcdEndpoints=https://etcd-1:2379 https://etcd-2:2379
        EtcdAPI=v3
        EtcdCAFile=/etc/ssl/etcd/ca.pem
        EtcdCertFile=/etc/ssl/etcd/client.pem
        EtcdKeyFile=/etc/ssl/etcd/client.key
        EtcdUsername=locksmith
        EtcdPassword=secret
        FleetLockURL=https://fleetlock.example.com/
        CoordinatorConf=/run/test/coordinator.conf
        LockRetrySec=10

        [Daemon]
        StateDirectory=/srv/tandem/state
        AdminGroup=sudo
        ResumeInterrupted=false
        """

    @Test func everyKeyOfEverySectionParses() throws {
        let configuration = try Self.load(Self.everyKey)
        #expect(configuration.disk == "/dev/vda")
        #expect(configuration.bootedSlot == "B")
        #expect(configuration.layout.labelA == "ROOT-A")
        #expect(configuration.layout.labelB == "ROOT-B")
        #expect(configuration.boot == BootBackendSettings(kind: .custom, esp: "/boot/efi", hook: "/usr/libexec/board-boot-hook"))
        // Only the labels change: the type GUID and the minimum size stay Flatcar's.
        #expect(configuration.layout.typeGUID == SlotLayout.flatcar.typeGUID)
        #expect(configuration.layout.minimumSize == SlotLayout.flatcar.minimumSize)
        #expect(configuration.source == "https://updates.example.com/stable/bundle.tandem")
        #expect(configuration.keyDirectories == ["/etc/keys.d", "/opt/vendor/keys.d", "/usr/share/keys.d"])
        #expect(configuration.verifyReadback == false)
        #expect(configuration.directIO == false)
        #expect(configuration.checkpointInterval == 128 << 20)
        #expect(configuration.trialTries == 3)
        #expect(configuration.caBundle == "/etc/ssl/private-ca.pem")
        #expect(configuration.connectTimeoutSeconds == 45)
        #expect(configuration.osRelease == "/usr/lib/os-release")
        #expect(configuration.compatible == "acme-board-v2")
        #expect(configuration.version == "3975.2.1")
        #expect(configuration.bootIDFile == "/run/test/boot_id")
        #expect(configuration.blessGraceSeconds == 120)
        #expect(configuration.stateDirectory == "/srv/tandem/state")
        #expect(configuration.adminGroup == "sudo")
        #expect(configuration.resumeInterrupted == false)
        #expect(configuration.server == .disabled && configuration.group == "alpha" && configuration.machineAlias == "edge-7")
        #expect(configuration.appID == "{11111111-2222-3333-4444-555555555555}" && configuration.strategy == .checkOnly)
        #expect(configuration.checkIntervalSeconds == 1800 && configuration.checkJitterSeconds == 300)
        #expect(configuration.firstCheckDelaySeconds == 60 && configuration.requestTimeoutSeconds == 90)
        #expect(configuration.root == "/srv/root")
        var reboot = RebootSettings()
        reboot.strategy = .etcdLock
        reboot.windowStart = "Sun 04:30"
        reboot.windowLength = "1h30m"
        reboot.group = "edge"
        reboot.etcdEndpoints = ["https://etcd-1:2379", "https://etcd-2:2379"]
        reboot.etcdAPI = .v3
        reboot.etcdCAFile = "/etc/ssl/etcd/ca.pem"
        reboot.etcdCertFile = "/etc/ssl/etcd/client.pem"
        reboot.etcdKeyFile = "/etc/ssl/etcd/client.key"
        reboot.etcdUsername = "locksmith"
        reboot.etcdPassword = "secret"
        reboot.fleetLockURL = "https://fleetlock.example.com/"
        reboot.coordinatorConf = "/run/test/coordinator.conf"
        reboot.lockRetrySeconds = 10
        #expect(configuration.reboot == reboot)
    }

    /// The all-keys file above really has every key `knownKeys` lists, and nothing else, so the
    /// test above covers the whole list, and the list (used in error messages) matches the parser.
    @Test func theBootBackendDefaultsToGPTPrioAndTakesEveryKind() throws {
        #expect(Configuration().boot == BootBackendSettings(kind: .gptprio, esp: nil, hook: nil))
        for kind in BootBackendKind.allCases where kind != .custom {
            #expect(try Self.load("[Slots]\nBackend=\(kind.rawValue)\n").boot.kind == kind)
        }
    }

    @Test(arguments: ["grub", "GPTPRIO", "", "systemd_boot", "gptprio,grub-env"])
    func anUnknownBackendIsRefusedNamingTheAllowedOnes(_ value: String) throws {
        let refusal = try #require(try Self.refusal("[Slots]\nBackend=\(value)\n"))
        let text = "\(refusal.error)"
        #expect(text.contains("Backend=") && text.contains("gptprio, grub-env, systemd-boot, custom"), "\(text)")
        #expect(text.hasPrefix(refusal.path + ":2:"), "\(text)")
    }

    @Test func theCustomBackendNeedsItsHook() throws {
        let refusal = try #require(try Self.refusal("[Slots]\nBackend=custom\n"))
        #expect("\(refusal.error)".contains("Backend=custom in [Slots] needs Hook="), "\(refusal.error)")
        #expect(try Self.load("[Slots]\nBackend=custom\nHook=/opt/hook\n").boot.hook == "/opt/hook")
    }

    @Test(arguments: [("ESP", "boot/efi"), ("Hook", "hook.sh")])
    func theESPAndTheHookAreAbsolutePaths(_ key: String, _ value: String) throws {
        let refusal = try #require(try Self.refusal("[Slots]\n\(key)=\(value)\n"))
        #expect("\(refusal.error)".contains("absolute path"), "\(refusal.error)")
    }

    @Test func theAllKeysFileCoversKnownKeysExactly() throws {
        let entries = try ConfigurationFile.parse(Self.everyKey, path: "all.conf").entries
        var seen: [String: [String]] = [:]
        for entry in entries { seen[entry.section, default: []].append(entry.key) }
        #expect(seen == Configuration.knownKeys)
    }

    @Test func anEmptyValueResetsAnOptionalKeyToItsDefault() throws {
        let configuration = try Self.load("""
            [Slots]
            Disk=/dev/sda
            Disk=
            BootedSlot=
            [Update]
            Source=
            CABundle=""
            Group=beta
            Group=
            AppID=
            [Host]
            Compatible=
            Version=
            [Daemon]
            AdminGroup=
            """)
        #expect(configuration.disk == nil)
        #expect(configuration.bootedSlot == nil)
        #expect(configuration.source == nil)
        #expect(configuration.caBundle == nil)
        // The documented complete example has both empty: update.conf's values, else Flatcar's.
        #expect(configuration.group == nil)
        #expect(configuration.appID == nil)
        #expect(configuration.compatible == nil)
        #expect(configuration.version == nil)
        // No admin group: only root may change things.
        #expect(configuration.adminGroup == nil)
    }

    // MARK: - Booleans

    static let trueSpellings = ["1", "yes", "y", "true", "t", "on", "YES", "True", "On"]
    static let falseSpellings = ["0", "no", "n", "false", "f", "off", "NO", "False", "OFF"]

    @Test(arguments: trueSpellings)
    func systemdTrueSpellings(_ text: String) throws {
        let configuration = try Self.load("""
            [Update]
            VerifyReadback=no
            VerifyReadback=\(text)
            DirectIO=no
            DirectIO=\(text)
            [Daemon]
            ResumeInterrupted=no
            ResumeInterrupted=\(text)
            """)
        #expect(configuration.verifyReadback)
        #expect(configuration.directIO)
        #expect(configuration.resumeInterrupted)
    }

    @Test(arguments: falseSpellings)
    func systemdFalseSpellings(_ text: String) throws {
        let configuration = try Self.load("""
            [Update]
            VerifyReadback=\(text)
            DirectIO=\(text)
            [Daemon]
            ResumeInterrupted=\(text)
            """)
        #expect(!configuration.verifyReadback)
        #expect(!configuration.directIO)
        #expect(!configuration.resumeInterrupted)
    }

    @Test(arguments: ["VerifyReadback", "DirectIO"], ["maybe", "2", "", "yess", "enabled"])
    func aBooleanThatIsNeitherIsRefused(key: String, text: String) throws {
        let refusal = try #require(try Self.refusal("[Update]\n\(key)=\(text)\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: key, value: text, expected: "yes or no"))
        #expect(refusal.error.description == "\(refusal.path):2: \(key)=\(text) is not valid: expected yes or no")
    }

    @Test func resumeInterruptedIsABooleanToo() throws {
        let refusal = try #require(try Self.refusal("[Daemon]\nResumeInterrupted=later\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: "ResumeInterrupted", value: "later",
                                               expected: "yes or no"))
    }

    // MARK: - Sizes

    @Test(arguments: [
        ("64M", UInt64(64) << 20),
        ("64m", UInt64(64) << 20),
        ("1G", UInt64(1) << 30),
        ("1g", UInt64(1) << 30),
        ("1T", UInt64(1) << 40),
        ("1024K", UInt64(1) << 20),
        ("1M", UInt64(1) << 20),
        ("1048576", UInt64(1) << 20),
        ("100000000", UInt64(100_000_000)),
    ])
    func sizes(text: String, bytes: UInt64) throws {
        let configuration = try Self.load("[Update]\nCheckpointInterval=\(text)\n")
        #expect(configuration.checkpointInterval == bytes)
    }

    @Test(arguments: [
        "16777216T", // 2^24 TiB = 2^64 bytes: overflows UInt64
        "99999999999999999999", // beyond UInt64
        "18446744073709551615G",
        "1023K", // below 1M
        "1048575", // one byte short of 1M
        "4096",
        "0",
        "0M",
        "",
        "M",
        "1.5G",
        "-1M",
        "64MB",
        "64 M",
        "64P",
    ])
    func badOrTooSmallSizesAreRefused(text: String) throws {
        let refusal = try #require(try Self.refusal("[Update]\nCheckpointInterval=\(text)\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: "CheckpointInterval", value: text,
                                               expected: "a size of at least 1M, such as 64M"))
    }

    @Test func theSizeParserItself() {
        #expect(ConfigurationFile.size("64M") == 64 << 20)
        #expect(ConfigurationFile.size("2K") == 2048)
        #expect(ConfigurationFile.size("4096") == 4096)
        #expect(ConfigurationFile.size("15T") == 15 << 40)
        #expect(ConfigurationFile.size("16777215T") == 16_777_215 << 40)
        #expect(ConfigurationFile.size("16777216T") == nil)
        #expect(ConfigurationFile.size("18446744073709551615") == UInt64.max)
        #expect(ConfigurationFile.size("18446744073709551616") == nil)
        #expect(ConfigurationFile.size("") == nil)
        #expect(ConfigurationFile.size("K") == nil)
    }

    // MARK: - Numbers

    @Test(arguments: ["1", "2", "7", "15"])
    func trialTriesWithinBounds(text: String) throws {
        let configuration = try Self.load("[Update]\nTrialTries=\(text)\n")
        #expect(configuration.trialTries == UInt8(text))
    }

    @Test(arguments: ["0", "16", "255", "256", "-1", "two", "", "1.5"])
    func trialTriesOutOfBoundsAreRefused(text: String) throws {
        let refusal = try #require(try Self.refusal("[Update]\nTrialTries=\(text)\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: "TrialTries", value: text,
                                               expected: "a number of boot attempts from 1 to 15"))
        #expect(refusal.error.description.hasSuffix("expected a number of boot attempts from 1 to \(BootAttributes.maximumTries)"))
    }

    @Test(arguments: ["0", "-5", "ten", "", "1.5"])
    func aConnectTimeoutMustBePositive(text: String) throws {
        let refusal = try #require(try Self.refusal("[Update]\nConnectTimeoutSec=\(text)\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: "ConnectTimeoutSec", value: text,
                                               expected: "a whole number of seconds greater than 0, up to 4294967295"))
        #expect(try Self.load("[Update]\nConnectTimeoutSec=1\n").connectTimeoutSeconds == 1)
    }

    // MARK: - Paths, labels, lists

    @Test(arguments: [("Host", "OSRelease"), ("Daemon", "StateDirectory")])
    func pathsMustBeAbsolute(section: String, key: String) throws {
        for text in ["relative/path", "", "./state", "~/state"] {
            let refusal = try #require(try Self.refusal("[\(section)]\n\(key)=\(text)\n"))
            #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: key, value: text, expected: "an absolute path"))
        }
    }

    @Test(arguments: ["LabelA", "LabelB"])
    func aSlotLabelCannotBeEmpty(key: String) throws {
        let refusal = try #require(try Self.refusal("[Slots]\n\(key)=\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: key, value: "", expected: "a partition label"))
    }

    @Test func keyDirectoriesAreSeparatedBySpaces() throws {
        #expect(try Self.load("[Update]\nKeysDirectory=/a  /b   /c\n").keyDirectories == ["/a", "/b", "/c"])
        #expect(try Self.load("[Update]\nKeysDirectory=/only\n").keyDirectories == ["/only"])
        let refusal = try #require(try Self.refusal("[Update]\nKeysDirectory=\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: "KeysDirectory", value: "",
                                               expected: "one or more directories, separated by spaces"))
    }

    // MARK: - Syntax

    @Test func commentsBlankLinesAndWhitespaceAreIgnored() throws {
        let configuration = try Self.load("""
            # A comment
            ; another comment

               [Slots]
            \tDisk   =   /dev/nvme0n1\t
              # Disk=/dev/commented-out
              ; Disk=/dev/also-commented-out
            BootedSlot=A

            [Update]
            TrialTries =2
            """)
        #expect(configuration.disk == "/dev/nvme0n1")
        #expect(configuration.bootedSlot == "A")
        #expect(configuration.trialTries == 2)
    }

    @Test func quotesAroundAValueAreRemoved() throws {
        let configuration = try Self.load("""
            [Update]
            Source="/var/cache/my bundle.tandem"
            CABundle='/etc/ssl/ca bundle.pem'
            [Host]
            Compatible="it's-quoted"
            Version="1.0'
            """)
        #expect(configuration.source == "/var/cache/my bundle.tandem")
        #expect(configuration.caBundle == "/etc/ssl/ca bundle.pem")
        #expect(configuration.compatible == "it's-quoted")
        // Mismatched quotes are part of the value.
        #expect(configuration.version == "\"1.0'")
    }

    @Test func quotedBooleansAndSizesParseLikeBareOnes() throws {
        let configuration = try Self.load("[Update]\nVerifyReadback=\"no\"\nCheckpointInterval='2G'\n")
        #expect(configuration.verifyReadback == false)
        #expect(configuration.checkpointInterval == 2 << 30)
    }

    @Test func aValueMayContainEqualsSignsAndHashes() throws {
        let configuration = try Self.load("""
            [Update]
            Source=https://example.com/get?channel=stable&arch=amd64#latest
            [Host]
            Version=1.0 # not a comment
            """)
        #expect(configuration.source == "https://example.com/get?channel=stable&arch=amd64#latest")
        // There are no trailing comments: systemd has none either.
        #expect(configuration.version == "1.0 # not a comment")
    }

    @Test func theLaterAssignmentWins() throws {
        let configuration = try Self.load("""
            [Slots]
            Disk=/dev/sda
            [Update]
            TrialTries=4
            [Slots]
            Disk=/dev/sdb
            [Update]
            TrialTries=2
            VerifyReadback=no
            VerifyReadback=yes
            """)
        #expect(configuration.disk == "/dev/sdb")
        #expect(configuration.trialTries == 2)
        #expect(configuration.verifyReadback)
    }

    @Test func aBadValueIsRefusedEvenWhenALaterLineWouldFixIt() throws {
        let refusal = try #require(try Self.refusal("[Update]\nTrialTries=99\nTrialTries=2\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 2, key: "TrialTries", value: "99",
                                               expected: "a number of boot attempts from 1 to 15"))
    }

    // MARK: - Refusals, each naming file:line and what is valid

    @Test(arguments: [
        ("[Slots]\nDisk=/dev/sda\njust some words\n", 3, "just some words"),
        ("[Slots]\n=/dev/sda\n", 2, "=/dev/sda"), // no key
        ("[Slots\nDisk=/dev/sda\n", 1, "[Slots"),
        ("[]\n", 1, "[]"),
        ("[Slots]\n\n\n  Disk /dev/sda  \n", 4, "Disk /dev/sda"),
    ])
    func syntaxErrorsNameTheLine(text: String, line: Int, shown: String) throws {
        let refusal = try #require(try Self.refusal(text))
        #expect(refusal.error == .syntax(path: refusal.path, line: line, text: shown))
        #expect(refusal.error.description
            == "\(refusal.path):\(line): '\(shown)' is neither a [Section] header nor Key=Value; fix or remove the line")
    }

    @Test func aKeyBeforeAnySectionSaysSo() throws {
        let refusal = try #require(try Self.refusal("# comment\n\nDisk=/dev/sda\n"))
        #expect(refusal.error == .outsideSection(path: refusal.path, line: 3, text: "Disk=/dev/sda"))
        #expect(refusal.error.description.contains("comes before any [Section] header"))
    }

    /// What `text` loads to, with the path it was written to.
    static func loaded(_ text: String) throws -> (configuration: Configuration, path: String) {
        let directory = try Scratch()
        let path = try directory.write(text, to: "tandem.conf")
        return (try Configuration.load(path: path, required: true), path)
    }

    /// A section this version does not know is skipped with its keys, and named: after a
    /// fallback, the older tandemd starts with what /etc says for the newer one.
    @Test func anUnknownSectionIsIgnoredAndListsTheSections() throws {
        let (configuration, path) = try Self.loaded("[Slots]\nDisk=/dev/sda\n\n[Network]\nProxy=x\nDisk=/dev/sdb\n")
        #expect(configuration.disk == "/dev/sda", "the unknown section's keys are not applied, even where a known section has them")
        #expect(configuration.ignored == [.unknownSection(path: path, line: 4, section: "Network")])
        #expect(configuration.ignored.first?.description == "\(path):4: unknown section [Network]; the sections are "
            + "[Boot], [Daemon], [Host], [Reboot], [Slots], [Update] (see docs/configuration.md)")
    }

    @Test func sectionNamesAreCaseSensitive() throws {
        let (configuration, path) = try Self.loaded("[slots]\nDisk=/dev/sda\n")
        #expect(configuration.ignored == [.unknownSection(path: path, line: 1, section: "slots")])
        #expect(configuration.disk == nil)
    }

    @Test func anUnknownKeyIsIgnoredAndListsTheKeysOfItsSection() throws {
        let (configuration, path) = try Self.loaded("# tandem\n[Slots]\nDsik=/dev/sda\nLabelA=usr-a\n")
        #expect(configuration.ignored == [.unknownKey(path: path, line: 3, section: "Slots", key: "Dsik")])
        #expect(configuration.ignored.first?.description == "\(path):3: [Slots] has no key Dsik; it has "
            + "Disk, BootedSlot, LabelA, LabelB, Backend, ESP, Hook (see docs/configuration.md)")
        #expect(configuration.disk == nil && configuration.layout.labelA == "usr-a", "the rest of the file applies")
    }

    @Test func aKeyInTheWrongSectionIsUnknownThere() throws {
        let (configuration, path) = try Self.loaded("[Update]\nDisk=/dev/sda\n")
        #expect(configuration.ignored == [.unknownKey(path: path, line: 2, section: "Update", key: "Disk")])
        #expect(configuration.ignored.first?.description.contains("[Update] has no key Disk; it has Source, KeysDirectory, "
            + "VerifyReadback, DirectIO, CheckpointInterval, TrialTries, CABundle, ConnectTimeoutSec") == true)
        #expect(configuration.disk == nil)
    }

    @Test func keyNamesAreCaseSensitive() throws {
        let (configuration, path) = try Self.loaded("[Daemon]\nadmingroup=staff\n")
        #expect(configuration.ignored == [.unknownKey(path: path, line: 2, section: "Daemon", key: "admingroup")])
        #expect(configuration.adminGroup != "staff")
    }

    @Test func aFileWithNothingUnknownIgnoresNothing() throws {
        #expect(try Self.load("[Slots]\nDisk=/dev/sda\n[Update]\nTrialTries=2\n").ignored.isEmpty)
    }

    @Test func anInvalidValueNamesTheLineTheKeyTheValueAndWhatIsValid() throws {
        let refusal = try #require(try Self.refusal("""
            # comment

            [Update]
            Source=/x
            TrialTries=0
            """))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 5, key: "TrialTries", value: "0",
                                               expected: "a number of boot attempts from 1 to 15"))
        #expect(refusal.error.description
            == "\(refusal.path):5: TrialTries=0 is not valid: expected a number of boot attempts from 1 to 15")
    }

    /// The first bad line is the one reported, whatever follows it: a syntax error before a bad
    /// value, since every line's form is checked before any value is applied.
    @Test func theFirstErrorInTheFileIsReported() throws {
        let refusal = try #require(try Self.refusal("[Update]\nTrialTries=0\n[Nonsense]\nnot an assignment\n"))
        #expect(refusal.error == .syntax(path: refusal.path, line: 4, text: "not an assignment"))
    }

    /// An unknown section or key does not excuse a bad value elsewhere.
    @Test func aBadValueIsRefusedBesideIgnoredSettings() throws {
        let refusal = try #require(try Self.refusal("[Update]\nFutureKey=1\nTrialTries=0\n[Nonsense]\n"))
        #expect(refusal.error == .invalidValue(path: refusal.path, line: 3, key: "TrialTries", value: "0",
                                               expected: "a number of boot attempts from 1 to 15"))
    }

    /// Files written on Windows or pasted from a browser end lines with CRLF.
    @Test func crlfLineEndingsParse() throws {
        let configuration = try Self.load("[Slots]\r\nDisk=/dev/sda\r\n[Update]\r\nTrialTries=2\r\n")
        #expect(configuration.disk == "/dev/sda")
        #expect(configuration.trialTries == 2)
    }
}
