import Foundation
import Slots
import TestSupport
import Testing

/// tandemd joining a fleet: the reboot waits for the fleet's lock (locksmith's semaphore in a
/// real etcd, or a FleetLock server), goes through logind (a stand-in on the private bus), and
/// the slot is given back only once the new version is blessed, across a simulated reboot.
@Suite("reboot coordination") struct RebootCoordinationTests {
    static let machineID = "0123456789abcdef0123456789abcdef"
    static let otherMachine = "fedcba9876543210fedcba9876543210"
    static let key = "coreos.com/updateengine/rebootlock/semaphore"

    /// A harness whose machine id lives under its own `Root=`, with `[Reboot]` settings.
    static func harness(reboot settings: String) throws -> (DaemonHarness, Scratch) {
        let root = try Scratch()
        try root.write("\(machineID)\n", to: "etc/machine-id")
        let harness = try DaemonHarness(kind: .imageFile, settings: """
            [Host]
            Root=\(root.path)

            [Reboot]
            LockRetrySec=1
            CoordinatorConf=\(root.file("run/update-engine/coordinator.conf"))
            \(settings)
            """)
        return (harness, root)
    }

    static func semaphore(_ etcd: Etcd) throws -> [String: Any] {
        let text = try #require(try etcd.value(api: 2, key))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func holders(_ etcd: Etcd) throws -> [String] {
        try semaphore(etcd)["holders"] as? [String] ?? []
    }

    static func install(_ harness: DaemonHarness) throws {
        let image = try harness.fixture.randomImage("image-2.0.0.raw", size: 2 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0")
        let update = try harness.updatectl(["update", bundle])
        #expect(update.status == 0, "\(update.stderr)")
    }

    @Test("etcd-lock: no reboot while the fleet is full; the lock, then logind; held through the trial, released after the blessing")
    func etcdLockAcrossReboot() throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        // Another machine holds the only slot, as locksmithd writes it.
        try etcd.put(api: 2, Self.key, "{\"semaphore\":0,\"max\":1,\"holders\":[\"\(Self.otherMachine)\"]}")
        let (harness, root) = try Self.harness(reboot: "Strategy=etcd-lock\nEtcdEndpoints=\(etcd.clientURL)")
        let logind = try FakeLogind(address: harness.bus.address)
        defer { logind.stop() }
        try harness.start()
        let conf = root.file("run/update-engine/coordinator.conf")
        #expect(try String(contentsOfFile: conf, encoding: .utf8).contains("NAME=tandemd\nSTRATEGY=etcd-lock\n"))

        try Self.install(harness)
        #expect(try DaemonHarness.eventually {
            (try harness.updatectlJSON(["status", "--json"])["coordination"] as? [String: Any])?["phase"] as? String == "waiting-for-lock"
        })
        Thread.sleep(forTimeInterval: 2.5)
        #expect(logind.rebootCalls.isEmpty, "the fleet is full: no reboot")
        #expect(try Self.holders(etcd) == [Self.otherMachine])
        #expect(try String(contentsOfFile: conf, encoding: .utf8).contains("STATE=reboot-planned"))
        let status = try harness.updatectl(["lock", "status"])
        #expect(status.stdout == "Available: 0\nMax: 1\n\nMACHINE ID\n\(Self.otherMachine)\n", "\(status.stdout)\(status.stderr)")
        let forced = try harness.updatectl(["reboot", "--force"])
        #expect(forced.status == 1 && forced.stderr.contains("reboot lock is not free"), "\(forced.stderr)")
        #expect(logind.rebootCalls.isEmpty)

        // The other machine died holding its slot; the administrator releases it.
        let release = try harness.updatectl(["lock", "release", Self.otherMachine])
        #expect(release.status == 0 && release.stdout.contains("released \(Self.otherMachine)'s slot"), "\(release.stderr)")
        #expect(try DaemonHarness.eventually { !logind.rebootCalls.isEmpty }, "\(harness.log)")
        #expect(logind.rebootCalls == [[.bool(false)]])
        #expect(try Self.holders(etcd) == [Self.machineID], "the lock was taken before the reboot")
        #expect(try Self.semaphore(etcd)["semaphore"] as? Int == 0)

        // The reboot: B on trial keeps the slot; the blessing gives it back.
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        #expect(try (harness.updatectlJSON(["status", "--json"])["boot"] as? [String: Any])?["kind"] as? String == "trial")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try Self.holders(etcd) == [Self.machineID], "held during the trial")
        #expect(try harness.updatectl(["mark-good"]).status == 0)
        #expect(try DaemonHarness.eventually { try Self.holders(etcd).isEmpty }, "\(harness.log)")
        #expect(try Self.semaphore(etcd)["semaphore"] as? Int == 1)
        let coordination = try #require(try harness.updatectlJSON(["status", "--json"])["coordination"] as? [String: Any])
        #expect(coordination["lockHeld"] as? Bool == false && coordination["strategy"] as? String == "etcd-lock")
        harness.stop()
    }

    @Test("etcd-lock: a trial boot that fails keeps the slot, so the fleet stops")
    func fallbackKeepsTheLock() throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        let (harness, root) = try Self.harness(reboot: "Strategy=etcd-lock\nEtcdEndpoints=\(etcd.clientURL)")
        defer { withExtendedLifetime(root) {} }
        let logind = try FakeLogind(address: harness.bus.address)
        defer { logind.stop() }
        try harness.start()
        try Self.install(harness)
        #expect(try DaemonHarness.eventually { !logind.rebootCalls.isEmpty }, "\(harness.log)")
        #expect(try Self.holders(etcd) == [Self.machineID])
        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        harness.kill9()
        #expect(try harness.reboot() == .a)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try Self.holders(etcd) == [Self.machineID], "kept after the fallback")
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("holding a slot of the fleet's reboot lock"), "\(human.stdout)")
        #expect(try harness.updatectl(["lock", "release"]).status == 0)
        #expect(try Self.holders(etcd).isEmpty)
        harness.stop()
    }

    @Test("etcd-lock: lock release without a slot says that nothing was released, and leaves the semaphore alone")
    func releaseWithoutASlot() throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        try etcd.put(api: 2, Self.key, "{\"semaphore\":0,\"max\":1,\"holders\":[\"\(Self.otherMachine)\"]}")
        let (harness, root) = try Self.harness(reboot: "Strategy=etcd-lock\nEtcdEndpoints=\(etcd.clientURL)")
        defer { withExtendedLifetime(root) {} }
        try harness.start()
        let release = try harness.updatectl(["lock", "release"])
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stdout == "this machine holds no slot of the reboot lock; nothing was released\n", "\(release.stdout)")
        #expect(try Self.holders(etcd) == [Self.otherMachine], "another machine's slot is untouched")
        #expect(try Self.semaphore(etcd)["semaphore"] as? Int == 0)
        harness.stop()
    }

    @Test("fleetlock: pre-reboot until 200, then logind; steady-state only after the blessing")
    func fleetLock() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fleetlock-\(UUID().uuidString.prefix(8)).jsonl").path
        let server = try ScriptServer(script: "fleetlock_server.py", log: log, arguments: ["--holders", "workers=someone-else"])
        let (harness, root) = try Self.harness(reboot: """
            Strategy=fleetlock
            FleetLockURL=http://127.0.0.1:\(server.port)/
            Group=workers
            """)
        defer { withExtendedLifetime(root) {} }
        let logind = try FakeLogind(address: harness.bus.address)
        defer { logind.stop() }
        try harness.start()
        try Self.install(harness)
        #expect(try DaemonHarness.eventually { try server.requests().count >= 2 })
        #expect(logind.rebootCalls.isEmpty, "423: no reboot")
        let refused = try server.requests()
        #expect(refused.allSatisfy { $0["path"] as? String == "/v1/pre-reboot" && $0["status"] as? Int == 423 }, "\(refused)")
        let headers = try #require(refused.first?["headers"] as? [String: String])
        #expect(headers["fleet-lock-protocol"] == "true")
        let body = try #require((refused.first?["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any])
        #expect(body["client_params"] as? [String: String] == ["id": Self.machineID, "group": "workers"])

        // The other holder is done; the next pre-reboot gets its 200, and only then the reboot.
        let other = "{\"client_params\":{\"id\":\"someone-else\",\"group\":\"workers\"}}"
        _ = try Shell.capture(["curl", "-sf", "-X", "POST", "-H", "fleet-lock-protocol: true", "-d", other,
                               "http://127.0.0.1:\(server.port)/v1/steady-state"])
        #expect(try DaemonHarness.eventually { !logind.rebootCalls.isEmpty }, "\(harness.log)")
        let granted = try #require(try server.requests().last { $0["path"] as? String == "/v1/pre-reboot" })
        #expect(granted["status"] as? Int == 200)

        #expect(try harness.reboot(versions: [.b: "2.0.0"]) == .b)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try server.requests().contains { $0["path"] as? String == "/v1/steady-state" && ($0["body"] as? String)?.contains(Self.machineID) == true } == false,
                "no steady-state during the trial")
        #expect(try harness.updatectl(["mark-good"]).status == 0)
        #expect(try DaemonHarness.eventually {
            try server.requests().contains { $0["path"] as? String == "/v1/steady-state" && $0["status"] as? Int == 200
                && ($0["body"] as? String)?.contains(Self.machineID) == true }
        }, "\(harness.log)")
        harness.stop()
    }

    /// Polls for `seconds`, failing as soon as `happened` is true: for what must not happen.
    static func never(for seconds: Double, _ happened: () throws -> Bool) rethrows -> Bool {
        try !DaemonHarness.eventually(timeout: seconds, happened)
    }

    static func coordination(_ harness: DaemonHarness) throws -> [String: Any] {
        try #require(try harness.updatectlJSON(["status", "--json"])["coordination"] as? [String: Any])
    }

    /// tandemd beside a coordinator it cannot displace: after an install, no slot of the etcd
    /// lock is taken (etcdctl) and logind is never asked; status and journal say why.
    static func expectStandsDown(_ harness: DaemonHarness, etcd: Etcd, logind: FakeLogind, saying text: String) throws {
        let coordination = try Self.coordination(harness)
        #expect(coordination["phase"] as? String == "standing-down" && coordination["strategy"] as? String == "etcd-lock")
        #expect((coordination["message"] as? String)?.contains(text) == true, "\(coordination)")
        #expect(harness.log.contains("standing down: \(text)"), "\(harness.log)")
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("Reboots:      etcd-lock, standing down: another coordinator reboots this host"),
                "\(human.stdout)")

        try Self.install(harness)
        #expect(try harness.updatectlJSON(["status", "--json"])["rebootPending"] as? Bool == true)
        // A coordinating tandemd takes the lock and reboots within milliseconds of the install
        // (etcdLockAcrossReboot); standing down, nothing comes in three seconds.
        let quiet = try Self.never(for: 3) { try !logind.rebootCalls.isEmpty || etcd.value(api: 2, Self.key) != nil }
        #expect(quiet, "\(harness.log)")
        let refused = try harness.updatectl(["reboot"])
        #expect(refused.status == 1 && refused.stderr.contains("does not coordinate reboots here: \(text)"),
                "\(refused.stderr)")
        #expect(logind.rebootCalls.isEmpty)

        // Forced, it reboots through logind, still without the fleet's lock.
        let forced = try harness.updatectl(["reboot", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(logind.rebootCalls == [[.bool(false)]])
        #expect(try etcd.value(api: 2, Self.key) == nil, "no lock taken in etcd")
        #expect(try Self.coordination(harness)["phase"] as? String == "standing-down")
    }

    @Test("etcd-lock beside locksmithd holding coordinator.conf: no lock taken, no reboot of its own; status names the holder")
    func standsDownBesideLocksmithd() throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        let (harness, root) = try Self.harness(reboot: "Strategy=etcd-lock\nEtcdEndpoints=\(etcd.clientURL)")
        let conf = try root.write("NAME=locksmithd\nSTRATEGY=etcd-lock\nSTATE=running\n", to: "run/update-engine/coordinator.conf")
        // Held as locksmithd holds it, with an exclusive flock.
        let locksmithd = try RivalLock(conf)
        defer { locksmithd.release() }
        let logind = try FakeLogind(address: harness.bus.address)
        defer { logind.stop() }
        try harness.start()
        try Self.expectStandsDown(harness, etcd: etcd, logind: logind,
                                  saying: "locksmithd (pid \(locksmithd.pid)) holds \(conf)")
        #expect(try String(contentsOfFile: conf, encoding: .utf8).contains("NAME=locksmithd"), "left to its holder")
        harness.stop()
    }

    @Test("etcd-lock with a coordinator.conf that cannot be created: no lock taken, no reboot of its own")
    func standsDownWithoutCoordinatorConf() throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        let (harness, root) = try Self.harness(reboot: "Strategy=etcd-lock\nEtcdEndpoints=\(etcd.clientURL)")
        // A directory where the file should be.
        let conf = root.file("run/update-engine/coordinator.conf")
        try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
        let logind = try FakeLogind(address: harness.bus.address)
        defer { logind.stop() }
        try harness.start()
        try Self.expectStandsDown(harness, etcd: etcd, logind: logind, saying: "tandemd cannot take \(conf)")
        harness.stop()
    }
}
