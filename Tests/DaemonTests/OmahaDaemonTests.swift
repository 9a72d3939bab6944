import Delta
import Foundation
import Slots
import Streaming
import TestSupport
import Testing
import Verification

/// tandemd as an update_engine-compatible Omaha client: the scheduled check, the strategies,
/// the events across a reboot and a fallback, and what a lying server gets.
@Suite("Omaha client") struct OmahaDaemonTests {
    static let trial = BootAttributes(priority: 2, tries: 1, successful: false).rawValue
    static let unbootable = BootAttributes(priority: 0, tries: 0, successful: false).rawValue

    @Test("automatic: the scheduled check sends update_engine's request, installs, and reports 13/1, 14/1, 3/1, then 3/2 after the reboot")
    func automaticUpdateAcrossReboot() throws {
        let setup = try OmahaFixture(kind: .loopDevice)
        try setup.serve("ok")
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/1"), "the scheduled update did not complete: \((try? setup.events()) ?? [])\n\(setup.harness.log)")
        #expect(try setup.events() == ["3/2 previousversion=0.0.0.0", "13/1", "14/1", "3/1"])

        // The update check, field by field, as update_engine sends it.
        let check = try #require(try setup.requests().first { $0["updatecheck"] as? Bool == true })
        #expect(check["content_type"] as? String == "text/xml")
        let request = try #require(check["request"] as? [String: String])
        #expect(request["protocol"] == "3.0" && request["installsource"] == "scheduler" && request["ismachine"] == "1", "\(request)")
        let os = try #require(check["os"] as? [String: String])
        #expect(os["version"] == "Chateau" && os["platform"] == "CoreOS" && os["sp"]?.hasPrefix("1.5.0_") == true, "\(os)")
        let app = try #require(check["app"] as? [String: String])
        let bootID = try String(contentsOfFile: setup.harness.bootIDFile, encoding: .utf8)
        #expect(app["appid"] == "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}")
        #expect(app["version"] == "1.5.0" && app["track"] == "beta" && app["bootid"] == "{\(bootID)}")
        #expect(app["machineid"] == setup.machineID && app["machinealias"] == "web-1")
        #expect(app["oem"] == "qemu" && app["oemversion"] == "0.1" && app["alephversion"] == "1.5.0")
        #expect(app["lang"] == "en-US" && app["board"] == "amd64-usr" && app["delta_okay"] == "false")
        #expect((check["body"] as? String)?.contains("<ping active=\"1\"></ping>") == true)

        #expect(try setup.harness.disk.sgdiskAttributes(4) == Self.trial)
        let status = try setup.status()
        #expect(status["rebootPending"] as? Bool == true && status["newVersion"] as? String == "2.0.0", "\(status)")
        let updates = try setup.updates()
        #expect(updates["strategy"] as? String == "automatic" && updates["channel"] as? String == "omaha")
        #expect((updates["lastCheck"] as? [String: Any])?["result"] as? String == "update-available")
        #expect((updates["nextCheckTime"] as? Int ?? 0) > Int(Date().timeIntervalSince1970) + 1800, "\(updates)")

        // While the reboot is pending, a check only pings.
        let before = try setup.requests().count
        let pending = try setup.harness.updatectl(["check"])
        #expect(pending.status == 2 && pending.stderr.contains("waits for a reboot"), "\(pending.stderr)")
        let ping = try #require(try setup.requests().dropFirst(before).first)
        #expect(ping["ping"] as? Bool == true && ping["updatecheck"] as? Bool == false && (ping["events"] as? [Any])?.isEmpty == true)
        #expect((ping["request"] as? [String: String])?["installsource"] == "ondemandupdate")

        // Reboot into B: a trial, during which the server is only pinged; then the blessing,
        // after which the next check tells the server which version ran before.
        try setup.serve("noupdate")
        #expect(try setup.harness.reboot(versions: [.b: "2.0.0"]) == .b)
        let onTrial = try setup.harness.updatectl(["check"])
        #expect(onTrial.status == 2 && onTrial.stderr.contains("on trial"), "\(onTrial.stderr)")
        #expect(try setup.harness.updatectl(["mark-good"]).status == 0)
        #expect(try setup.waitForEvent("3/2 previousversion=1.5.0"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        let after = try #require(try setup.requests().last { $0["updatecheck"] as? Bool == true })
        #expect((after["app"] as? [String: String])?["version"] == "2.0.0")
        #expect(try setup.events() == ["3/2 previousversion=0.0.0.0", "13/1", "14/1", "3/1", "3/2 previousversion=1.5.0"])

        // Told once: the next check says nothing of it. The server logs the event before it
        // answers, so the check that carried it may still be finishing (busy, status 5).
        var again = try setup.harness.updatectl(["check"])
        _ = try DaemonHarness.eventually {
            if again.status == 5 { again = try setup.harness.updatectl(["check"]) }
            return again.status != 5
        }
        #expect(again.status == 2, "\(again.stderr)")
        #expect(try setup.events().last == "3/2 previousversion=")
        setup.harness.stop()
    }

    @Test("a fallback is reported as 3/0 errorcode 44, and the quarantined version is not downloaded again")
    func fallbackReportsRollback() throws {
        let setup = try OmahaFixture(kind: .loopDevice)
        try setup.serve("ok")
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/1"), "\(setup.harness.log)")
        #expect(try setup.harness.reboot(versions: [.b: "2.0.0"]) == .b)
        setup.harness.kill9()
        #expect(try setup.harness.reboot() == .a, "B used its try and was never blessed")
        #expect(try setup.waitForEvent("3/0/44"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        let rollbackCheck = try #require(try setup.requests().last { $0["updatecheck"] as? Bool == true })
        #expect((rollbackCheck["events"] as? [[String: String]])?.map(OmahaFixture.describe) == ["3/0/44"])
        // The server still offers 2.0.0: quarantined, it is skipped, not downloaded.
        #expect(try DaemonHarness.eventually { (try setup.updates()["lastCheck"] as? [String: Any])?["result"] as? String == "deferred" })
        let lastCheck = try #require(try setup.updates()["lastCheck"] as? [String: Any])
        #expect((lastCheck["message"] as? String)?.contains("quarantined") == true, "\(lastCheck)")
        #expect(try setup.events().filter { $0 == "13/1" }.count == 1, "no second download: \((try? setup.events()) ?? [])")
        setup.harness.stop()
    }

    @Test("the server's digest disagrees with the bundle: nothing becomes bootable, LastResult and the server hear error 10")
    func omahaHashMismatch() throws {
        let setup = try OmahaFixture()
        try setup.serve("wrong-hash")
        let slotA = try setup.harness.disk.sgdiskAttributes(3)
        let slotB = try setup.harness.disk.sgdiskAttributes(4)
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/0/10"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        #expect(try setup.events() == ["3/2 previousversion=0.0.0.0", "13/1", "3/0/10"])
        let last = try #require(try DaemonHarness.eventually { try setup.status()["lastResult"] != nil } ? setup.status()["lastResult"] as? [String: Any] : nil)
        #expect(last["result"] as? String == "failed", "\(last)")
        #expect((last["message"] as? String)?.contains("SHA-256") == true && (last["message"] as? String)?.contains("error 10") == true, "\(last)")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == Self.unbootable, "B was invalidated and never activated")
        #expect(slotB != Self.unbootable)
        #expect(try setup.harness.disk.sgdiskAttributes(3) == slotA, "the booted slot is untouched")
        #expect(try setup.status()["rebootPending"] as? Bool == false)
        setup.harness.stop()
    }

    /// The Omaha flow with a delta: only the changed blocks are downloaded, so the server's
    /// whole-file SHA-256 cannot be checked; its size and the version it offered are, against
    /// the signed manifest, and every chunk against the signed table.
    @Test("a delta through Omaha downloads the changed blocks and checks the offered size and version")
    func aDeltaThroughOmaha() throws {
        let setup = try OmahaFixture(delta: true)
        try setup.serve("ok")
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/1"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        let last = try #require(try DaemonHarness.eventually { try setup.status()["lastResult"] != nil } ? setup.status()["lastResult"] as? [String: Any] : nil)
        let message = last["message"] as? String ?? ""
        #expect(message.contains("as a delta: ") && message.contains("matched the update server's size and version"), "\(last)")
        #expect(message.contains("the booted slot's block keys hashed, since no install recorded the booted slot's keys"), "\(last)")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == Self.trial)
        let bundle = try #require(setup.bundles["2.0.0"])
        let image = setup.harness.fixture.path("image-2.0.0.raw")
        #expect(try setup.harness.install.slotDigest(partition: 4, count: 3 << 20) == (try setup.harness.install.fileDigest(image)))
        let size = try FileManager.default.attributesOfItem(atPath: bundle.file)[.size] as? Int ?? 0
        #expect(try bundle.bytesSent() * 4 < size, "a sixteenth of the image, the preamble and the table")
        setup.harness.stop()
    }

    /// Slot A was written by an install, which recorded its block keys in the state directory
    /// tandemd shares: tandemd's delta takes A's keys from that record instead of hashing A,
    /// and records B's, the chunk table's keys byte for byte (by `cmp`), for the delta after.
    @Test("a delta through tandemd takes the booted slot's keys from its record and records the slot it wrote")
    func aDeltaFromARecordedSlot() throws {
        let setup = try OmahaFixture(delta: true, recordedBootedSlot: true)
        let store = SlotKeysStore(stateDirectory: setup.harness.stateDirectory)
        let pair = try setup.harness.install.pair()
        let recordB = store.path(forPartition: pair.b.partition.uniqueGUID.description)
        #expect(FileManager.default.fileExists(atPath: store.path(forPartition: pair.a.partition.uniqueGUID.description)))
        #expect(!FileManager.default.fileExists(atPath: recordB))
        try setup.serve("ok")
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/1"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        let last = try #require(try DaemonHarness.eventually { try setup.status()["lastResult"] != nil } ? setup.status()["lastResult"] as? [String: Any] : nil)
        let message = last["message"] as? String ?? ""
        #expect(message.contains("as a delta: ") && message.contains("the booted slot's block keys recorded by the install that wrote it"),
                "\(last)")
        let image = setup.harness.fixture.path("image-2.0.0.raw")
        #expect(try setup.harness.install.slotDigest(partition: 4, count: 3 << 20) == (try setup.harness.install.fileDigest(image)))
        let bundle = try #require(setup.bundles["2.0.0"]).file
        let preamble = try BundleFile.readPreamble(path: bundle)
        let layout = try #require(preamble.manifest.chunkLayout)
        let keysLength = layout.blockCount * UInt64(ChunkLayout.keyLength)
        let same = try Shell.capture(["cmp", "-i", "\(preamble.header.tableOffset + layout.keysOffset):\(SlotKeysHeader.size)",
                                      "-n", "\(keysLength)", bundle, recordB])
        #expect(same.status == 0, "slot B's record holds the table's keys: \(same.stdout)")
        setup.harness.stop()
    }

    /// A server that offers one version and serves a bundle signed as another: refused before
    /// anything is written, as the binding a delta relies on.
    @Test("the server's version disagrees with the bundle's signed one: refused, error 12")
    func offeredVersionMismatch() throws {
        let setup = try OmahaFixture(delta: true)
        try setup.serve("ok", extra: ["version": "2.0.1"])
        let slotB = try setup.harness.disk.sgdiskAttributes(4)
        try setup.harness.start()
        let last = try #require(try DaemonHarness.eventually { try setup.status()["lastResult"] != nil } ? setup.status()["lastResult"] as? [String: Any] : nil)
        #expect(last["result"] as? String == "failed", "\(last)")
        #expect((last["message"] as? String)?.contains("offered version 2.0.1, but the bundle it serves is signed as version 2.0.0") == true,
                "\(last)")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == slotB, "nothing was written")
        setup.harness.stop()
    }

    @Test("the server's size disagrees with the bundle: refused before a byte is written, error 11")
    func omahaSizeMismatch() throws {
        let setup = try OmahaFixture()
        try setup.serve("wrong-size")
        let slotB = try setup.harness.disk.sgdiskAttributes(4)
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/0/11"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == slotB, "B untouched")
        setup.harness.stop()
    }

    @Test("check-only: the update is reported on D-Bus and in the journal, and nothing is downloaded")
    func checkOnly() throws {
        let setup = try OmahaFixture(strategy: "check-only")
        try setup.serve("ok")
        let slotB = try setup.harness.disk.sgdiskAttributes(4)
        try setup.harness.start()
        #expect(try DaemonHarness.eventually { (try setup.updates()["lastCheck"] as? [String: Any])?["result"] as? String == "update-available" })
        let property = try setup.harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "LastCheck"])
        #expect(property.stdout.contains("\"update-available\" \"2.0.0\""), "\(property.stdout)")
        let strategy = try setup.harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "Strategy"])
        #expect(strategy.stdout == "s \"check-only\"\n")
        Thread.sleep(forTimeInterval: 1)
        #expect(try setup.events() == ["3/2 previousversion=0.0.0.0"], "no download events")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == slotB)
        #expect(setup.harness.log.contains("not downloading it (Strategy=check-only)"))
        let human = try setup.harness.updatectl(["status"])
        #expect(human.stdout.contains("Updates:      check-only, from Omaha server \(setup.serverURL), group beta"), "\(human.stdout)")
        #expect(human.stdout.contains("Last check:   update-available"), "\(human.stdout)")
        // The operator rolls it out by hand.
        let update = try setup.harness.updatectl(["update"])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == Self.trial)
        let manual = try #require(try setup.requests().last { $0["updatecheck"] as? Bool == true })
        #expect((manual["request"] as? [String: String])?["installsource"] == "ondemandupdate")
        setup.harness.stop()
    }

    @Test("download-only: staged and verified but unbootable, until updatectl activate")
    func downloadOnly() throws {
        let setup = try OmahaFixture(strategy: "download-only")
        try setup.serve("ok")
        try setup.harness.start()
        #expect(try DaemonHarness.eventually { try setup.updates()["staged"] != nil }, "\(setup.harness.log)")
        let staged = try #require(try setup.updates()["staged"] as? [String: Any])
        #expect(staged["version"] as? String == "2.0.0" && staged["slot"] as? String == "B")
        #expect(try setup.events() == ["3/2 previousversion=0.0.0.0", "13/1", "14/1"], "3/1 waits for the activation")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == Self.unbootable)
        #expect(try setup.status()["rebootPending"] as? Bool == false)
        let image = setup.harness.fixture.path("image-2.0.0.raw")
        #expect(try setup.harness.install.slotDigest(partition: 4, count: 3 << 20) == (try setup.harness.install.fileDigest(image)),
                "the image is in B")

        let activate = try setup.harness.updatectl(["activate"])
        #expect(activate.status == 0, "\(activate.stderr)")
        #expect(activate.stdout.contains("activated version 2.0.0 in slot B"), "\(activate.stdout)")
        #expect(try setup.harness.disk.sgdiskAttributes(4) == Self.trial)
        #expect(try setup.waitForEvent("3/1"))
        #expect(try setup.status()["rebootPending"] as? Bool == true)
        let nothing = try setup.harness.updatectl(["activate"])
        #expect(nothing.status == 1 && nothing.stderr.contains("nothing is staged"), "\(nothing.stderr)")
        setup.harness.stop()
    }

    @Test("off: no automatic check at all; updatectl check still asks (ondemandupdate)")
    func strategyOff() throws {
        let setup = try OmahaFixture(strategy: "off")
        try setup.serve("noupdate")
        try setup.harness.start()
        Thread.sleep(forTimeInterval: 2.5)
        #expect(try setup.requests().isEmpty)
        let updates = try setup.updates()
        #expect(updates["strategy"] as? String == "off" && updates["nextCheckTime"] == nil, "\(updates)")
        let check = try setup.harness.updatectl(["check"])
        #expect(check.status == 2 && check.stderr.contains("no update"), "\(check.stderr)")
        #expect((try setup.requests().first?["request"] as? [String: String])?["installsource"] == "ondemandupdate")
        setup.harness.stop()
    }

    @Test("a host that never updated sends previousversion 0.0.0.0 once, then \"\", as update_engine does")
    func previousVersionOfAFreshHostIsSentOnce() throws {
        let setup = try OmahaFixture(strategy: "off")
        try setup.serve("noupdate")
        try setup.harness.start()
        for _ in 0..<2 {
            let check = try setup.harness.updatectl(["check"])
            #expect(check.status == 2 && check.stderr.contains("no update"), "\(check.stderr)")
        }
        #expect(try setup.events() == ["3/2 previousversion=0.0.0.0", "3/2 previousversion="])
        setup.harness.stop()
    }

    @Test("an HTTP error is error 2000+status, reported, and the check is retried later, not at once")
    func httpError() throws {
        let setup = try OmahaFixture()
        try setup.serve("http-error", extra: ["status": 503])
        try setup.harness.start()
        #expect(try setup.waitForEvent("3/0/2503"), "\((try? setup.events()) ?? [])\n\(setup.harness.log)")
        let updates = try setup.updates()
        let lastCheck = try #require(updates["lastCheck"] as? [String: Any])
        #expect(lastCheck["result"] as? String == "failed")
        #expect((lastCheck["message"] as? String)?.contains("HTTP 503") == true, "\(lastCheck)")
        let next = try #require(updates["nextCheckTime"] as? Int)
        let checked = try #require(lastCheck["time"] as? Int)
        // The 1 s first delay doubled stays under the 45 min floor: the regular interval, no jitter.
        #expect(abs(next - checked - 2700) <= 2, "next check \(next - checked) s after the failure")
        setup.harness.stop()
    }

    @Test("update_engine's update.conf: /etc/flatcar wins over /usr/share/flatcar; SERVER=disabled stops checks")
    func flatcarFiles() throws {
        let setup = try OmahaFixture(serverInConfig: false, settings: "")
        try FileManager.default.createDirectory(atPath: setup.root + "/etc/flatcar", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: setup.root + "/usr/share/flatcar", withIntermediateDirectories: true)
        try "SERVER=\(setup.serverURL)\nMACHINE_ALIAS=from-etc\n".write(toFile: setup.root + "/etc/flatcar/update.conf", atomically: true, encoding: .utf8)
        try "SERVER=http://127.0.0.1:1/never\nGROUP=stable\n".write(toFile: setup.root + "/usr/share/flatcar/update.conf", atomically: true, encoding: .utf8)
        try setup.serve("noupdate")
        try setup.harness.start()
        let check = try setup.harness.updatectl(["check"])
        #expect(check.status == 2, "\(check.stderr)")
        let app = try #require(try setup.requests().last?["app"] as? [String: String])
        #expect(app["track"] == "beta", "tandem.conf's Group= wins over update.conf")
        #expect(app["machinealias"] == "web-1", "and so does its MachineAlias=")
        #expect(try setup.updates()["address"] as? String == setup.serverURL)

        try "SERVER=disabled\n".write(toFile: setup.root + "/etc/flatcar/update.conf", atomically: true, encoding: .utf8)
        let count = try setup.requests().count
        let disabled = try setup.harness.updatectl(["check"])
        #expect(disabled.status == 2 && disabled.stderr.contains("updates are disabled"), "\(disabled.stderr)")
        #expect(disabled.stderr.contains("/etc/flatcar/update.conf"), "\(disabled.stderr)")
        #expect(try setup.requests().count == count)
        #expect(try setup.updates()["channel"] as? String == "disabled")
        setup.harness.stop()
    }
}
