@testable import Engine
import Foundation
import Logging
import Slots
import Testing
import TestSupport

/// The host's transitions driven on an `Updater` directly: no daemon, no bus. The disk is a GPT
/// image (sgdisk), the boot flags live in a file backend, the state in a temporary directory.
@Suite(.serialized)
struct UpdaterTransitionTests {
    typealias Host = BackendNeutralLifecycleTests.Host

    /// Makes every later state write fail: a directory in state.json's place (root ignores modes).
    /// A host whose first updater is already stopped, for a test that starts its own, and a
    /// bundle of version 2.0.0 for it.
    static func stoppedHostWithBundle() throws -> (host: Host, bundle: String) {
        let host = try Host()
        host.updater.shutdown()
        let image = try host.harness.fixture.randomImage("image.raw", size: 1 << 20)
        return (host, try host.harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0"))
    }

    static func breakStateWrites(_ host: Host) throws {
        let path = host.harness.stateDirectory + "/state.json"
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path + "/occupied", withIntermediateDirectories: true)
    }

    static func repairStateWrites(_ host: Host) throws {
        try FileManager.default.removeItem(atPath: host.harness.stateDirectory + "/state.json")
    }

    /// Installs 3.0.0 and lets its trial fail, so that it is quarantined.
    static func quarantine(_ host: Host) throws {
        let image = try host.harness.fixture.randomImage("image3.raw", size: 1 << 20)
        #expect(try host.install(try host.harness.fixture.bundle("v3.tandem", image: image, version: "3.0.0"))?.code == .success)
        #expect(try host.reboot(versions: [.b: "3.0.0"])?.kind == .trial)
        #expect(try host.reboot(versions: [.b: "3.0.0"])?.reason == .triesExhausted)
    }

    @Test("quarantine, then unquarantine; a quarantined version is refused unless forced")
    func quarantineAndUnquarantine() throws {
        let host = try Host()
        try Self.quarantine(host)
        #expect(host.updater.status().quarantined.map(\.slot) == [.b])
        let image = try host.harness.fixture.randomImage("again.raw", size: 1 << 20)
        let refused = try host.install(try host.harness.fixture.bundle("again.tandem", image: image, version: "3.0.0"))
        #expect(refused?.code == .failed && refused?.message.contains("is quarantined") == true, "\(String(describing: refused))")
        let message = try host.updater.unquarantine("3.0.0")
        #expect(message.contains("no longer quarantined"))
        #expect(host.updater.status().quarantined.isEmpty)
        #expect(throws: UpdaterError.self) { try host.updater.unquarantine("3.0.0") }
        host.updater.shutdown()
    }

    @Test("a failed state write: unquarantine fails with the state error, and memory keeps the quarantine")
    func aFailedWriteLeavesMemoryUnchanged() throws {
        let host = try Host()
        try Self.quarantine(host)
        try Self.breakStateWrites(host)
        do {
            _ = try host.updater.unquarantine("3.0.0")
            Issue.record("unquarantine must fail when the state cannot be written")
        } catch {
            guard case .state = error else { Issue.record("a state error, not \(error)"); return }
        }
        let status = host.updater.status()
        #expect(status.quarantined.map(\.version) == ["3.0.0"], "memory did not move on")
        #expect(status.stateProblem?.contains("cannot save the state") == true, "\(String(describing: status.stateProblem))")
        try Self.repairStateWrites(host)
        _ = try host.updater.unquarantine("3.0.0")
        #expect(host.updater.status().quarantined.isEmpty && host.updater.status().stateProblem == nil)
        host.updater.shutdown()
    }

    @Test("a failed state write after mark-good: the caller hears the mark was done but not recorded; the trial stays")
    func aBlessingThatCannotBeRecorded() throws {
        let host = try Host()
        let image = try host.harness.fixture.randomImage("image.raw", size: 1 << 20)
        #expect(try host.install(try host.harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0"))?.code == .success)
        #expect(try host.reboot(versions: [.b: "2.0.0"])?.kind == .trial)
        try Self.breakStateWrites(host)
        do {
            _ = try host.updater.mark(.good, slot: "booted")
            Issue.record("mark-good must report that the blessing was not recorded")
        } catch {
            guard case let .notRecorded(done, _) = error else { Issue.record("notRecorded, not \(error)"); return }
            #expect(done.contains("marked slot B good"), "\(done)")
        }
        #expect(host.updater.status().boot?.kind == .trial, "the blessing is not in memory either")
        try Self.repairStateWrites(host)
        _ = try host.updater.mark(.good, slot: "booted")
        #expect(host.updater.status().boot?.kind == .blessed)
        host.updater.shutdown()
    }

    @Test("rollback during a trial ends it by choice: the old slot boots next and the next boot is normal")
    func rollbackEndsTheTrial() throws {
        let host = try Host()
        let image = try host.harness.fixture.randomImage("image.raw", size: 1 << 20)
        #expect(try host.install(try host.harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0"))?.code == .success)
        #expect(try host.reboot(versions: [.b: "2.0.0"])?.kind == .trial)
        let (next, _) = try host.updater.rollback()
        #expect(next == .a)
        let report = try #require(try host.reboot(versions: [.b: "2.0.0"]))
        #expect(host.booted == .a && report.kind == .normal, "\(report)")
        #expect(host.updater.status().quarantined.isEmpty, "a rollback is not a failed boot")
        host.updater.shutdown()
    }

    @Test("mark-bad of a pending update drops it: no reboot pending, and the next boot is not a fallback")
    func markBadDropsThePendingUpdate() throws {
        let host = try Host()
        let image = try host.harness.fixture.randomImage("image.raw", size: 1 << 20)
        #expect(try host.install(try host.harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0"))?.code == .success)
        #expect(host.updater.status().rebootPending)
        _ = try host.updater.mark(.bad, slot: "other")
        #expect(!host.updater.status().rebootPending)
        #expect(try host.reboot(versions: [:])?.kind == .normal)
        host.updater.shutdown()
    }

    @Test("stage (download-only), then activate: unbootable until activated, then pending on trial")
    func stageThenActivate() throws {
        let host = try Host()
        let image = try host.harness.fixture.randomImage("image.raw", size: 1 << 20)
        let bundle = try host.harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0")
        let completed = Mailbox<ResultRecord>()
        host.updater.observe { if case let .completed(result) = $0 { completed.set(result) } }
        _ = try host.updater.install(InstallRequest(source: bundle, stageOnly: true))
        #expect(DaemonHarness.eventually(timeout: 60) { completed.value?.code == .success })
        let staged = try #require(host.updater.status().updates.staged)
        #expect(staged.version == "2.0.0" && staged.slot == .b && !host.updater.status().rebootPending)
        completed.reset()
        _ = try host.updater.activate()
        #expect(DaemonHarness.eventually(timeout: 60) { completed.value?.code == .success })
        #expect(host.updater.status().rebootPending && host.updater.status().updates.staged == nil)
        #expect(try host.reboot(versions: [.b: "2.0.0"])?.kind == .trial)
        host.updater.shutdown()
    }

    @Test("check against a configured bundle: the outcome is recorded as LastCheck")
    func checkRecordsTheOutcome() throws {
        let (host, bundle) = try Self.stoppedHostWithBundle()
        let updater = try Host.start(host.harness, host.backend, host.bootIDFile, booted: .a, version: "1.5.0") { $0.source = bundle }
        let answer = Mailbox<Result<CheckResult, UpdaterError>>()
        try updater.check { answer.set($0) }
        #expect(DaemonHarness.eventually(timeout: 30) { answer.value != nil })
        let found = try #require(try answer.value?.get())
        #expect(found.available && found.version == "2.0.0")
        #expect(updater.status().updates.lastCheck?.result == .updateAvailable)
        updater.shutdown()
    }

    @Test("the records carry the injected clock's time: the check, the install's result")
    func recordsTakeTheInjectedClock() throws {
        let (host, bundle) = try Self.stoppedHostWithBundle()
        // 2031-05-06 07:08:09 UTC: no test runs then by accident.
        let then = Date(timeIntervalSince1970: 1_935_817_689)
        let clock = ManualHostClock(then)
        let updater = try Host.start(host.harness, host.backend, host.bootIDFile, booted: .a, version: "1.5.0", clock: clock) {
            $0.source = bundle
        }
        let answer = Mailbox<Result<CheckResult, UpdaterError>>()
        try updater.check { answer.set($0) }
        #expect(answer.wait(timeout: 30) != nil)
        #expect(updater.status().updates.lastCheck?.time == 1_935_817_689)
        clock.set(then.addingTimeInterval(60))
        let completed = Mailbox<ResultRecord>()
        updater.observe { if case let .completed(result) = $0 { completed.set(result) } }
        _ = try updater.install(InstallRequest(source: bundle))
        let result = try #require(completed.wait(timeout: 60))
        #expect(result.code == .success && result.time == 1_935_817_749, "\(result)")
        updater.shutdown()
    }

    @Test("a stop ends a check that waits to retry a failing server, without another request")
    func aStopEndsACheckBetweenRetries() throws {
        let (host, bundle) = try Self.stoppedHostWithBundle()
        let failing = try BundleServer(file: bundle, arguments: ["--mode", "status", "--status", "503"])
        let updater = try Host.start(host.harness, host.backend, host.bootIDFile, booted: .a, version: "1.5.0") { $0.source = failing.url }
        let answer = Mailbox<Result<CheckResult, UpdaterError>>()
        try updater.check { answer.set($0) }
        // The second attempt came 1 s after the first; the third would come 2 s after it.
        #expect(DaemonHarness.eventually(timeout: 30) { ((try? failing.requests().count) ?? 0) >= 2 })
        let stopping = Date()
        updater.shutdown()
        let seconds = Date().timeIntervalSince(stopping)
        #expect(seconds < 1.5, "the stop took \(seconds) s")
        #expect(try failing.requests().count == 2, "no attempt after the stop")
        let outcome = try #require(answer.wait(timeout: 5))
        #expect(throws: UpdaterError.self) { try outcome.get() }
        #expect("\(outcome)".contains("cancelled"), "\(outcome)")
        #expect(!"\(outcome)".contains("slot"), "a check touches no slot, and says nothing of one: \(outcome)")
    }

    @Test("cancel stops the install: the target is left unbootable, the booted slot untouched")
    func cancel() throws {
        let host = try Host()
        #expect(throws: UpdaterError.self) { try host.updater.cancel(by: 0) }
        let image = try host.harness.fixture.randomImage("big.raw", size: 8 << 20)
        let bundle = try host.harness.fixture.bundle("big.tandem", image: image, version: "2.0.0")
        // The server stops sending 2 MiB in, so the cancel always meets a transfer in flight.
        let server = try BundleServer(file: bundle, arguments: ["--pause-at", "\(2 << 20)"])
        let completed = Mailbox<ResultRecord>()
        host.updater.observe { if case let .completed(result) = $0 { completed.set(result) } }
        _ = try host.updater.install(InstallRequest(source: server.url))
        #expect(DaemonHarness.eventually(timeout: 30) { ((try? server.requests().count) ?? 0) >= 2 })
        _ = try host.updater.cancel(by: 0)
        #expect(DaemonHarness.eventually(timeout: 60) { completed.value != nil })
        #expect(completed.value?.code == .cancelled, "\(String(describing: completed.value))")
        #expect(!host.updater.status().rebootPending)
        #expect(try host.backend.flags(.a, try host.pair).successful)
        host.updater.shutdown()
    }

    @Test("an interrupted transaction is reported at the next start, with the slot it left unbootable")
    func interruptedTransaction() throws {
        let host = try Host()
        host.updater.shutdown()
        var state = try StateStore(directory: host.harness.stateDirectory).load().state
        state.transaction = TransactionRecord(id: "0123456789abcdef", source: "/gone.tandem", startTime: 1, bootID: "an-earlier-boot",
                                              version: "2.0.0", imageSize: 1 << 20, targetSlot: .b, slotChoice: .auto,
                                              verifyReadback: true)
        try StateStore(directory: host.harness.stateDirectory).save(state)
        let updater = try Host.start(host.harness, host.backend, host.bootIDFile, booted: .a, version: "1.5.0") {
            $0.resumeInterrupted = false
        }
        updater.assessBoot()
        updater.recoverInterruptedTransaction()
        let result = try #require(updater.status().lastResult)
        #expect(result.code == .interrupted && result.transaction == "0123456789abcdef")
        #expect(result.message.contains("the machine restarted") && result.message.contains("slot B was left unbootable"),
                "\(result.message)")
        #expect(try StateStore(directory: host.harness.stateDirectory).load().state.transaction == nil)
        updater.shutdown()
    }
}
