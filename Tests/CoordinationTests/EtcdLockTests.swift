import Coordination
import Foundation
import HTTP
import Testing
import TestSupport

/// locksmith's semaphore on a real etcd started by each test, through the v2 keys API and
/// through v3, judged by etcdctl.
@Suite struct EtcdLockTests {
    let key = "coreos.com/updateengine/rebootlock/semaphore"

    /// Five hosts with two slots, each on its own thread with its own lock, each rebooting (a
    /// short sleep) once it holds a slot, then releasing. etcdctl samples the key all along.
    @Test(arguments: EtcdAPI.allCases)
    func aFleetNeverHasMoreHoldersThanSlots(api: EtcdAPI) throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        let tally = Tally()
        let admin = try LocksmithLock(store: api.store(etcd), holder: machineID(), retry: tally.fastRetry)
        #expect(try admin.setMax(2) == (old: 1, new: 2))
        #expect(RawSemaphore(try etcd.value(api: api.rawValue, key))?.max == 2)

        let sampling = Tally()
        let stop = DispatchSemaphore(value: 0), stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while stop.wait(timeout: .now()) == .timedOut {
                guard let raw = RawSemaphore(try? etcd.value(api: api.rawValue, key)) else {
                    sampling.add("unreadable")
                    continue
                }
                sampling.add("samples")
                if raw.holders.count > 2 || raw.semaphore < 0 || raw.semaphore + raw.holders.count != raw.max {
                    sampling.add("violations")
                }
                sampling.add("held-\(raw.holders.count)")
            }
            stopped.signal()
        }

        let hosts = (0..<5).map { _ in machineID() }
        concurrently(hosts.count) { index in
            do {
                let lock = try LocksmithLock(store: api.store(etcd), holder: hosts[index], retry: tally.fastRetry)
                let deadline = Date().addingTimeInterval(60)
                while case .notYet = try lock.acquire() {
                    guard Date() < deadline else { throw Shell.Failure(command: ["acquire"], output: .init(status: 1, stdout: "", stderr: "no slot in 60 s")) }
                    tally.add("refused")
                    Thread.sleep(forTimeInterval: 0.02)
                }
                tally.add("rebooting")
                Thread.sleep(forTimeInterval: 0.4)  // the reboot
                tally.add("rebooting", -1)
                #expect(try lock.release() == .released)
                tally.add("rebooted")
            } catch {
                tally.record(error)
            }
        }
        stop.signal()
        stopped.wait()

        #expect(tally.errors.isEmpty)
        #expect(tally.count("rebooted") == 5)
        #expect(tally.maximum("rebooting") == 2)
        #expect(tally.count("refused") > 0)
        #expect(sampling.count("samples") > 5)
        #expect(sampling.count("violations") == 0)
        #expect(sampling.count("held-3") == 0 && sampling.count("held-4") == 0 && sampling.count("held-5") == 0)
        let final = try #require(RawSemaphore(try etcd.value(api: api.rawValue, key)))
        #expect(final.semaphore == 2 && final.max == 2 && final.holders.isEmpty)
        #expect(try admin.status() == LockStatus(available: 2, max: 2, holders: []))
    }

    /// Many threads lock and unlock at once: every lost compare-and-swap is retried, and no
    /// holder is lost or counted twice.
    @Test(arguments: EtcdAPI.allCases)
    func racingWritersLoseNothing(api: EtcdAPI) throws {
        let etcd = try Etcd()
        defer { etcd.stop() }
        let tally = Tally()
        let hosts = (0..<12).map { _ in machineID() }
        try LocksmithLock(store: api.store(etcd), holder: "admin", retry: tally.fastRetry).setMax(hosts.count)
        for _ in 0..<3 {
            concurrently(hosts.count) { index in
                do {
                    let lock = try LocksmithLock(store: api.store(etcd), holder: hosts[index], retry: tally.fastRetry)
                    if try lock.acquire() != .granted { tally.add("refused") }
                } catch {
                    tally.record(error)
                }
            }
            let held = try #require(RawSemaphore(try etcd.value(api: api.rawValue, key)))
            #expect(held.holders == hosts.sorted() && held.semaphore == 0 && held.max == hosts.count)
            concurrently(hosts.count) { index in
                do {
                    let lock = try LocksmithLock(store: api.store(etcd), holder: hosts[index], retry: tally.fastRetry)
                    if try lock.release() != .released { tally.add("not released") }
                } catch {
                    tally.record(error)
                }
            }
            let free = try #require(RawSemaphore(try etcd.value(api: api.rawValue, key)))
            #expect(free.holders.isEmpty && free.semaphore == hosts.count)
        }
        #expect(tally.errors.isEmpty)
        #expect(tally.count("refused") == 0 && tally.count("not released") == 0)
        #expect(tally.count("conflict") > 0, "12 writers at once never lost a compare-and-swap")
    }

    /// Values written by other clients, locksmith's `null` and the README's `[]`, are read.
    @Test(arguments: EtcdAPI.allCases)
    func nullAndEmptyHoldersFromOtherClients(api: EtcdAPI) throws {
        let etcd = try Etcd()
        for written in [#"{"semaphore":1,"max":1,"holders":null}"#, #"{"semaphore":1,"max":1,"holders":[]}"#] {
            try etcd.put(api: api.rawValue, key, written)
            let lock = try LocksmithLock(store: api.store(etcd), holder: "aaaa")
            #expect(try lock.status() == LockStatus(available: 1, max: 1, holders: []))
            #expect(try lock.acquire() == .granted)
            #expect(try etcd.value(api: api.rawValue, key) == #"{"semaphore":0,"max":1,"holders":["aaaa"]}"#)
            #expect(try lock.release() == .released)
            #expect(try etcd.value(api: api.rawValue, key) == #"{"semaphore":1,"max":1,"holders":[]}"#)
        }
    }

    /// The first lock attempt creates the key with locksmith's initial value, byte for byte.
    @Test(arguments: EtcdAPI.allCases)
    func aMissingKeyIsCreatedAsLocksmithCreatesIt(api: EtcdAPI) throws {
        let etcd = try Etcd()
        let lock = try LocksmithLock(store: api.store(etcd), holder: "bbbb")
        #expect(try etcd.value(api: api.rawValue, key) == nil)
        #expect(try lock.release() == .notHeld)
        #expect(try etcd.value(api: api.rawValue, key) == #"{"semaphore":1,"max":1,"holders":null}"#)
        #expect(try lock.acquire() == .granted)
        // Asking again while holding is granted without a write.
        #expect(try lock.acquire() == .granted)
        #expect(try etcd.value(api: api.rawValue, key) == #"{"semaphore":0,"max":1,"holders":["bbbb"]}"#)
    }

    /// A host that dies holding a slot keeps it (nothing expires); an administrator releases it.
    @Test(arguments: EtcdAPI.allCases)
    func aDeadHolderKeepsItsSlotUntilAnAdministratorReleasesIt(api: EtcdAPI) throws {
        let etcd = try Etcd()
        let dead = machineID(), waiting = machineID()
        do {
            let lock = try LocksmithLock(store: api.store(etcd), holder: dead)
            #expect(try lock.acquire() == .granted)
        }  // the host is gone without releasing
        let other = try LocksmithLock(store: api.store(etcd), holder: waiting)
        guard case let .notYet(refusal) = try other.acquire() else {
            Issue.record("granted while the dead host holds the only slot")
            return
        }
        #expect(refusal.kind == "semaphore_full" && refusal.message.contains(dead))
        let admin = try LocksmithLock(store: api.store(etcd), holder: machineID())
        #expect(try admin.unlock(holder: waiting) == false)
        #expect(try admin.unlock(holder: dead) == true)
        #expect(try other.acquire() == .granted)
        #expect(try admin.status()?.holders == [waiting])
    }

    /// Groups have keys of their own, escaped as locksmith escapes them.
    @Test(arguments: EtcdAPI.allCases)
    func groupsUseTheirOwnEscapedKeys(api: EtcdAPI) throws {
        let etcd = try Etcd()
        let group = "db servers/eu%1"
        let lock = try LocksmithLock(store: api.store(etcd, group: group), holder: "cccc")
        #expect(try lock.acquire() == .granted)
        #expect(try etcd.value(api: api.rawValue, "coreos.com/updateengine/rebootlock/groups/db+servers%2Feu%251/semaphore")
            == #"{"semaphore":0,"max":1,"holders":["cccc"]}"#)
        #expect(try etcd.value(api: api.rawValue, key) == nil)
    }

    /// v2 and v3 keyspaces are separate: a v2 holder is invisible to a v3 client.
    @Test func v2AndV3KeyspacesAreSeparate() throws {
        let etcd = try Etcd()
        #expect(try LocksmithLock(store: EtcdAPI.v2.store(etcd), holder: "dddd").acquire() == .granted)
        let v3 = try LocksmithLock(store: EtcdAPI.v3.store(etcd), holder: "eeee")
        #expect(try v3.acquire() == .granted)
        #expect(RawSemaphore(try etcd.value(api: 2, key))?.holders == ["dddd"])
        #expect(RawSemaphore(try etcd.value(api: 3, key))?.holders == ["eeee"])
    }

    /// An endpoint that refuses the connection passes the request on to the next.
    @Test(arguments: EtcdAPI.allCases)
    func endpointsAreTriedInOrder(api: EtcdAPI) throws {
        let etcd = try Etcd()
        let closed = "http://127.0.0.1:\(try Etcd.freePort())"
        let lock = try LocksmithLock(store: api.store(etcd, endpoints: [closed, etcd.clientURL]), holder: "ffff")
        #expect(try lock.acquire() == .granted)

        let unreachable = try LocksmithLock(store: api.store(etcd, endpoints: [closed, closed + "/"]), holder: "ffff")
        #expect {
            try unreachable.acquire()
        } throws: { error in
            guard case let .unreachable(service, failures) = error as? RebootLockError else { return false }
            return service == .etcd && failures.count == 2 && failures.allSatisfy { if case .refused = $0.error { true } else { false } }
                && "\(error)".contains(closed)
        }
    }

    /// A value that is not locksmith's JSON is reported, with what to do, and left alone.
    @Test(arguments: EtcdAPI.allCases)
    func aCorruptValueIsReportedNotOverwritten(api: EtcdAPI) throws {
        let etcd = try Etcd()
        try etcd.put(api: api.rawValue, key, "hello")
        let lock = try LocksmithLock(store: api.store(etcd), holder: "abcd")
        #expect {
            try lock.acquire()
        } throws: { error in
            guard case .semaphoreValue = error as? RebootLockError else { return false }
            return "\(error)".contains("hello") && "\(error)".contains("delete the key")
        }
        #expect(try etcd.value(api: api.rawValue, key) == "hello")
    }

    /// etcd 3.4 without --enable-v2: the message says how to turn it on (Flatcar issue #1442).
    @Test func v2DisabledIsExplained() throws {
        let etcd = try Etcd(enableV2: false)
        let lock = try LocksmithLock(store: EtcdAPI.v2.store(etcd), holder: "abcd")
        #expect {
            try lock.acquire()
        } throws: { error in
            guard case .v2Disabled = error as? RebootLockError else { return false }
            return "\(error)".contains("--enable-v2=true")
        }
        // v3 works on the same server.
        #expect(try LocksmithLock(store: EtcdAPI.v3.store(etcd), holder: "abcd").acquire() == .granted)
    }

    /// Giving up after too many lost races returns control as "not yet", with the reason.
    @Test func contentionBeyondTheLimitIsNotYet() throws {
        let store = AlwaysConflicting()
        let tally = Tally()
        var retry = tally.fastRetry
        retry.maximumConflicts = 3
        let lock = try LocksmithLock(store: store, holder: "abcd", retry: retry)
        #expect(try lock.acquire() == .notYet(LockRefusal(kind: "contended", message: RebootLockError.contended(key: store.key, attempts: 3).description)))
        #expect(tally.count("conflict") == 2)
        #expect(throws: RebootLockError.contended(key: store.key, attempts: 3)) { try lock.setMax(3) }
    }

    @Test func backoffDoublesUpToTheLimit() {
        let policy = RetryPolicy()
        #expect((1...9).map { policy.delay(afterConflict: $0) }
            == [5, 10, 20, 40, 80, 160, 300, 300, 300].map { Duration.seconds($0) })
    }

    @Test func configurationIsCheckedBeforeAnyRequest() {
        #expect(throws: LockConfigurationError.noEndpoints) { try EtcdConnection(endpoints: []) }
        #expect(throws: LockConfigurationError.invalidEndpoint("127.0.0.1:2379")) { try EtcdConnection(endpoints: ["127.0.0.1:2379"]) }
        #expect(throws: LockConfigurationError.incompleteClientCertificate) {
            try EtcdConnection(options: HTTPOptions(clientCertificate: "/etc/ssl/client.pem"))
        }
        #expect(throws: LockConfigurationError.emptyID) {
            try LocksmithLock(store: EtcdV2Store(connection: EtcdConnection()), holder: "")
        }
    }
}

/// A store whose every write loses the race.
private struct AlwaysConflicting: SemaphoreStore {
    let key = "coreos.com/updateengine/rebootlock/semaphore"
    func get() -> VersionedSemaphore? { VersionedSemaphore(value: .initial, version: 7) }
    func create(_ value: LocksmithSemaphore) -> Bool { false }
    func compareAndSwap(_ value: LocksmithSemaphore, expecting version: UInt64) -> Bool { false }
}
