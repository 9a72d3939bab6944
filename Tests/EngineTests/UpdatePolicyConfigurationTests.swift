@testable import Engine
import Omaha
import TestSupport
import Testing

/// The keys that say where updates come from and what the machine does with them.
@Suite struct UpdatePolicyConfigurationTests {
    @Test func theDefaultsCheckLikeUpdateEngineAndInstallAutomatically() {
        let configuration = Configuration()
        #expect(configuration.strategy == .automatic)
        #expect(configuration.server == nil && configuration.group == nil && configuration.appID == nil)
        #expect(configuration.machineAlias == nil)
        #expect(configuration.checkIntervalSeconds == 2700 && configuration.checkJitterSeconds == 600)
        #expect(configuration.firstCheckDelaySeconds == 420 && configuration.requestTimeoutSeconds == 60)
        #expect(configuration.root == "")
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try ConfigurationTests.load("""
            [Update]
            Server=https://nebraska.example.com/v1/update/
            Group=beta
            AppID={11111111-2222-3333-4444-555555555555}
            MachineAlias=rack-4 web
            Strategy=download-only
            CheckIntervalSec=3600
            CheckJitterSec=0
            FirstCheckDelaySec=15
            RequestTimeoutSec=20

            [Host]
            Root=/srv/image/
            """)
        #expect(configuration.server == .url("https://nebraska.example.com/v1/update/"))
        #expect(configuration.group == "beta" && configuration.appID == "{11111111-2222-3333-4444-555555555555}")
        #expect(configuration.machineAlias == "rack-4 web" && configuration.strategy == .downloadOnly)
        #expect(configuration.checkIntervalSeconds == 3600 && configuration.checkJitterSeconds == 0)
        #expect(configuration.firstCheckDelaySeconds == 15 && configuration.requestTimeoutSeconds == 20)
        #expect(configuration.root == "/srv/image")
        #expect(try ConfigurationTests.load("[Update]\nServer=disabled\n").server == .disabled)
    }

    @Test(arguments: [
        ("Strategy=sometimes", "automatic, download-only, check-only, off"),
        ("Server=ftp://example.com/", "an http:// or https:// URL of an Omaha server, or disabled"),
        ("CheckIntervalSec=30", "at least 60"),
        ("CheckJitterSec=-1", "0 or more"),
        ("RequestTimeoutSec=0", "greater than 0"),
    ])
    func badValuesAreRefusedNamingTheLine(line: String, expected: String) throws {
        let (error, path) = try #require(try ConfigurationTests.refusal("[Update]\n\(line)\n"))
        #expect(error.description.hasPrefix("\(path):2: \(line) is not valid: expected"), "\(error)")
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func aBundleSourceAndAServerCannotBothBeSet() throws {
        let (error, path) = try #require(try ConfigurationTests.refusal("""
            [Update]
            Source=https://example.com/os.tandem
            Server=https://nebraska.example.com/v1/update/
            """))
        #expect(error == .conflict(path: path, message: "Source= and Server= are both set in [Update]; set one: Source= for a "
            + "bundle path or URL, Server= for an Omaha server such as Nebraska"))
    }

    /// tandem.conf wins key by key; then /etc/flatcar/update.conf, then the image's files.
    @Test func theChannelTakesWhatTandemConfLeavesOpenFromUpdateEnginesFiles() throws {
        let root = try Scratch()
        try root.write("SERVER=https://etc.example.com/v1/update/\nGROUP=alpha\nMACHINE_ALIAS=etc-alias\n", to: "etc/flatcar/update.conf")
        try root.write("SERVER=https://image.example.com/\nGROUP=stable\n", to: "usr/share/flatcar/update.conf")
        try root.write("FLATCAR_RELEASE_APPID={aaaaaaaa-0000-0000-0000-000000000000}\nFLATCAR_RELEASE_BOARD=arm64-usr\n",
                       to: "usr/share/flatcar/release")
        var configuration = Configuration()
        configuration.root = root.path
        guard case let .omaha(settings) = try UpdateChannel.resolve(configuration, runningVersion: "1.0.0") else {
            Issue.record("not an Omaha channel")
            return
        }
        #expect(settings == OmahaSettings(server: "https://etc.example.com/v1/update/", group: "alpha",
                                          appID: "{aaaaaaaa-0000-0000-0000-000000000000}", machineAlias: "etc-alias",
                                          version: "1.0.0", board: "arm64-usr"))

        configuration.group = "beta"
        configuration.machineAlias = "conf-alias"
        configuration.server = .url("https://conf.example.com/")
        guard case let .omaha(overridden) = try UpdateChannel.resolve(configuration, runningVersion: "1.0.0") else {
            Issue.record("not an Omaha channel")
            return
        }
        #expect(overridden.server == "https://conf.example.com/" && overridden.group == "beta" && overridden.machineAlias == "conf-alias")

        configuration.server = nil
        try root.write("SERVER=disabled\n", to: "etc/flatcar/update.conf")
        #expect(try UpdateChannel.resolve(configuration, runningVersion: "1.0.0")
            == .disabled(setBy: "SERVER= in \(root.path)/etc/flatcar/update.conf or \(root.path)/usr/share/flatcar/update.conf "
                + "or \(root.path)/usr/share/flatcar/release"))
        configuration.source = "/var/lib/tandem/os.tandem"
        #expect(try UpdateChannel.resolve(configuration, runningVersion: "1.0.0") == .bundle(source: "/var/lib/tandem/os.tandem"))
        let empty = try Scratch()
        var bare = Configuration()
        bare.root = empty.path
        #expect(try UpdateChannel.resolve(bare, runningVersion: nil) == .none,
                "no server anywhere: no automatic updates (not Flatcar's public server, whose payloads are not bundles)")
    }
}

/// `[Reboot]`: the strategy and what it needs, checked when the file is read.
@Suite struct RebootConfigurationTests {
    @Test func theDefaultLeavesRebootsToOthers() {
        #expect(Configuration().reboot.strategy == .off)
        #expect(Configuration().reboot.etcdEndpoints == ["http://127.0.0.1:2379", "http://127.0.0.1:4001"])
        #expect(Configuration().reboot.coordinatorConf == "/run/update-engine/coordinator.conf")
    }

    @Test(arguments: [
        ("[Reboot]\nStrategy=best-effort\n", "expected off, reboot, etcd-lock, fleetlock"),
        ("[Reboot]\nStrategy=fleetlock\n", "Strategy=fleetlock needs FleetLockURL="),
        ("[Reboot]\nWindowStart=04:00\n", "WindowStart=/WindowLength="),
        ("[Reboot]\nWindowStart=25:00\nWindowLength=1h\n", "WindowStart=/WindowLength="),
        ("[Reboot]\nEtcdAPI=v4\n", "expected v2 or v3"),
    ])
    func mistakesAreRefused(text: String, expected: String) throws {
        let (error, _) = try #require(try ConfigurationTests.refusal(text))
        #expect(error.description.contains(expected), "\(error)")
    }
}
