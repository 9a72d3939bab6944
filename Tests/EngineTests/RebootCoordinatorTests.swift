import Coordination
@testable import Engine
import Foundation
import Logging
import TestSupport
import Testing

/// The reboot path with the fleet's lock and the clock played by the test: the window, then the
/// lock, then the reboot, and the slot given back only after the blessing.
@Suite struct RebootCoordinatorTests {
    struct Setup {
        let coordinator: RebootCoordinator
        let lock: FakeRebootLock
        let clock: ManualHostClock
        let scratch: Scratch
        var conf: String { scratch.file("coordinator.conf") }

        func state() throws -> String? {
            try String(contentsOfFile: conf, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("STATE=") }.map(String.init)
        }
    }

    /// Saturday 2026-11-21 12:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_795_262_400)

    static func setup(window: (String, String)? = nil, held: Bool = false, at start: Date = noon) throws -> Setup {
        let scratch = try Scratch()
        var settings = RebootSettings()
        settings.strategy = .etcdLock
        settings.windowStart = window?.0
        settings.windowLength = window?.1
        settings.coordinatorConf = scratch.file("coordinator.conf")
        settings.lockRetrySeconds = 1
        let lock = FakeRebootLock()
        let clock = ManualHostClock(start)
        let coordinator = try RebootCoordinator(settings: settings, machineID: "0123456789abcdef0123456789abcdef", held: held,
                                                clock: clock, lock: lock, persistHeld: { _ in },
                                                logger: Logger(label: "test"))
        coordinator.setRebooter { _ in lock.record("reboot"); return nil }
        return Setup(coordinator: coordinator, lock: lock, clock: clock, scratch: scratch)
    }

    static func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        try DaemonHarness.eventually(timeout: 10, condition)
    }

    @Test func theRebootComesOnlyAfterTheLockIsGranted() throws {
        let setup = try Self.setup()
        setup.coordinator.updateReady(version: "2.0.0")
        // Each retry comes once the (manual) clock has passed the wait.
        #expect(try Self.eventually { setup.clock.advance(by: 1); return setup.lock.journal.count >= 2 },
                "retries while the fleet is full")
        #expect(!setup.lock.journal.contains("reboot"))
        #expect(setup.coordinator.status.phase == .waitingForLock)
        #expect(setup.coordinator.status.message.contains("semaphore is at 0"))
        #expect(try setup.state() == "STATE=reboot-planned")

        setup.lock.grant(true)
        #expect(try Self.eventually { setup.clock.advance(by: 300); return setup.lock.journal.last == "reboot" })
        let journal = setup.lock.journal
        #expect(journal.suffix(2) == ["acquire: granted", "reboot"], "\(journal)")
        #expect(journal.dropLast(2).allSatisfy { $0 == "acquire: not yet" })
        #expect(setup.coordinator.status.lockHeld && setup.coordinator.status.phase == .rebooting)
        #expect(try setup.state() == "STATE=rebooting")
        setup.coordinator.stop()
    }

    @Test func outsideItsWindowAHostDoesNotTakeTheLock() throws {
        // Saturdays 14:00 for an hour; it is noon.
        let setup = try Self.setup(window: ("sat 14:00", "1h"))
        setup.lock.grant(true)
        setup.coordinator.updateReady(version: "2.0.0")
        #expect(try Self.eventually { setup.coordinator.status.phase == .waitingForWindow })
        // The worker now waits on the manual clock, which only the test moves.
        #expect(setup.lock.journal.isEmpty, "no lock taken outside the window")
        #expect(setup.coordinator.status.message.contains("2026-11-21T14:00:00Z"), "\(setup.coordinator.status.message)")
        #expect(setup.coordinator.rebootNow(force: false)?.contains("outside the reboot window") == true)
        #expect(setup.lock.journal.isEmpty)

        // The clock reaches the window: the waiting worker looks again, takes the lock and reboots.
        setup.clock.set(Self.noon.addingTimeInterval(2 * 3600 + 60))
        #expect(try Self.eventually { setup.lock.journal == ["acquire: granted", "reboot"] }, "\(setup.lock.journal)")
        setup.coordinator.stop()
    }

    @Test func theSlotIsHeldThroughTheTrialAndGivenBackAfterTheBlessing() throws {
        // After the reboot: a new coordinator that held the slot before.
        let setup = try Self.setup(held: true)
        setup.coordinator.bootAssessed(.trial)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(setup.lock.journal.isEmpty, "kept during the trial")
        #expect(setup.coordinator.status.phase == .holding)
        setup.coordinator.blessed()
        #expect(try Self.eventually { setup.lock.journal == ["release"] })
        #expect(try Self.eventually { !setup.coordinator.status.lockHeld && setup.coordinator.status.phase == .idle })
        setup.coordinator.stop()
    }

    @Test func afterAFallbackTheSlotIsKeptSoTheFleetStops() throws {
        let setup = try Self.setup(held: true)
        setup.coordinator.bootAssessed(.fallback)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(setup.lock.journal.isEmpty)
        #expect(setup.coordinator.status.message.contains("updatectl lock release"))
        #expect(try setup.coordinator.release(holder: nil) == "released this machine's slot of the reboot lock")
        #expect(setup.lock.journal == ["release"] && !setup.coordinator.status.lockHeld)
    }

    @Test func strategyRebootRebootsAtOnceWithoutALock() throws {
        let scratch = try Scratch()
        var settings = RebootSettings()
        settings.strategy = .reboot
        settings.coordinatorConf = scratch.file("coordinator.conf")
        let coordinator = try RebootCoordinator(settings: settings, machineID: nil, held: false, persistHeld: { _ in },
                                                logger: Logger(label: "test"))
        let journal = FakeRebootLock()
        coordinator.setRebooter { _ in journal.record("reboot"); return nil }
        coordinator.updateReady(version: "2.0.0")
        #expect(try Self.eventually { journal.journal == ["reboot"] })
        #expect(try String(contentsOfFile: settings.coordinatorConf, encoding: .utf8) == "NAME=tandemd\nSTRATEGY=reboot\nSTATE=rebooting\n")
        #expect(!coordinator.status.lockHeld)
        coordinator.stop()
    }

    @Test func strategyOffNeverRebootsAndLeavesCoordinatorConfToOthers() throws {
        let scratch = try Scratch()
        var settings = RebootSettings()
        settings.coordinatorConf = scratch.file("coordinator.conf")
        let coordinator = try RebootCoordinator(settings: settings, machineID: nil, held: false, persistHeld: { _ in },
                                                logger: Logger(label: "test"))
        let rebooted = NSLock()
        nonisolated(unsafe) var reboots = 0
        coordinator.setRebooter { _ in rebooted.withLock { reboots += 1 }; return nil }
        coordinator.updateReady(version: "2.0.0")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(rebooted.withLock { reboots } == 0)
        #expect(!FileManager.default.fileExists(atPath: settings.coordinatorConf), "locksmithd or the update operator may own it")
    }

    /// A coordinator that found coordinator.conf held by another, or could not take it.
    static func standingDown(conf: String) throws -> (RebootCoordinator, FakeRebootLock) {
        var settings = RebootSettings()
        settings.strategy = .etcdLock
        settings.coordinatorConf = conf
        let lock = FakeRebootLock()
        lock.grant(true)
        let coordinator = try RebootCoordinator(settings: settings, machineID: "0123456789abcdef0123456789abcdef", held: true,
                                                clock: ManualHostClock(noon), lock: lock, persistHeld: { _ in },
                                                logger: Logger(label: "test"))
        coordinator.setRebooter { version in lock.record("reboot \(version ?? "-")"); return nil }
        return (coordinator, lock)
    }

    /// Standing down: every request is ignored (no worker, no lock call, no reboot); status says
    /// why; `updatectl reboot` is refused unless forced, and forced it takes no lock.
    static func expectStandsDown(_ coordinator: RebootCoordinator, _ lock: FakeRebootLock, saying text: String) throws {
        coordinator.updateReady(version: "2.0.0")
        coordinator.bootAssessed(.normal)
        coordinator.blessed()
        coordinator.stop()
        #expect(lock.journal.isEmpty, "\(lock.journal)")
        let status = coordinator.status
        #expect(status.phase == .standingDown && status.strategy == .etcdLock)
        #expect(status.message.contains(text), "\(status.message)")
        let refusal = try #require(coordinator.rebootNow(force: false))
        #expect(refusal.contains("does not coordinate reboots") && refusal.contains(text), "\(refusal)")
        #expect(lock.journal.isEmpty)
        #expect(coordinator.rebootNow(force: true) == nil)
        #expect(lock.journal == ["reboot -"], "forced: logind, without the lock")
        #expect(coordinator.status.phase == .standingDown)
    }

    @Test func locksmithdHoldingCoordinatorConfMeansNoLockAndNoReboot() throws {
        let scratch = try Scratch()
        let path = try scratch.write("NAME=locksmithd\nSTRATEGY=etcd-lock\nSTATE=running\n", to: "coordinator.conf")
        // Held as locksmithd holds it, with an exclusive flock.
        let holder = try RivalLock(path)
        defer { holder.release() }
        let (coordinator, lock) = try Self.standingDown(conf: path)
        try Self.expectStandsDown(coordinator, lock, saying: "locksmithd (pid \(holder.pid)) holds \(path)")
    }

    @Test func aCoordinatorConfThatCannotBeTakenMeansNoLockAndNoReboot() throws {
        let scratch = try Scratch()
        // A directory where the file should be; a regular file where its directory should be.
        let directory = scratch.file("coordinator.conf")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (first, firstLock) = try Self.standingDown(conf: directory)
        try Self.expectStandsDown(first, firstLock, saying: "tandemd cannot take \(directory)")
        let notADirectory = try scratch.write("", to: "run")
        let (second, secondLock) = try Self.standingDown(conf: notADirectory + "/update-engine/coordinator.conf")
        try Self.expectStandsDown(second, secondLock, saying: "cannot tell whether another coordinator runs")
    }

    @Test func asecondCoordinatorStandsDown() throws {
        let first = try Self.setup()
        var settings = RebootSettings()
        settings.strategy = .reboot
        settings.coordinatorConf = first.conf
        let second = try RebootCoordinator(settings: settings, machineID: nil, held: false, persistHeld: { _ in },
                                           logger: Logger(label: "test"))
        _ = second
        let text = try String(contentsOfFile: first.conf, encoding: .utf8)
        #expect(text.contains("STRATEGY=etcd-lock"), "the first keeps the file: \(text)")
        #expect(text.contains("NAME=tandemd"))
    }
}
