import Coordination
@testable import Engine
import Foundation
import Logging
import Platform
import TestSupport
import Testing

/// The reboot coordinator's worker racing the requests that tandemd makes from other threads
/// (an update ready, dropped, blessed; a boot assessed; a stop), with a fake lock that grants,
/// refuses or fails at random and a manual clock. Each round is one interleaving; after its
/// requests the lock starts answering, and then no request may have been lost: the last version
/// still ready was rebooted into after it was announced, a slot asked back after the last grant
/// was given back, no reboot happened without the slot, and stop ended the worker for good.
@Suite struct RebootCoordinatorStressTests {
    static let rounds = 10_000
    static let roundsPerMachine = 20
    /// Real time a round may take to serve its requests once the lock answers; a correct
    /// coordinator needs milliseconds.
    static let settleSeconds = 2.0
    /// Saturday 2026-11-21 12:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_795_262_400)

    @Test func noRequestIsLostInTenThousandInterleavings() throws {
        var random = SplitMix64(seed: 0x7A4D_E012_0005)
        var failures: [String] = []
        var totals = Totals()
        let started = MonotonicClock.now()
        var machine: Machine?
        for round in 0..<Self.rounds {
            // A machine lives for up to `roundsPerMachine` rounds, or until a round stops it.
            let current = try machine ?? Machine(&random)
            let before = current.lock.journal.count
            let lost = try current.round(&random, last: current.rounds + 1 == Self.roundsPerMachine, totals: &totals)
            machine = current.stopped ? nil : current
            if !lost.isEmpty {
                failures.append("round \(round): \(lost.joined(separator: "; ")) in \(current.lock.journal[before...])")
            }
        }
        let seconds = MonotonicClock.now() - started
        print("reboot coordinator stress: \(Self.rounds) interleavings on \(totals.machines) machines, \(totals.requests) "
            + "requests, \(totals.answers) lock answers, \(totals.reboots) reboots, \(totals.releases) releases, "
            + "\(totals.stops) stopped mid-way, \(failures.count) lost, " + String(format: "%.1f s", seconds))
        #expect(failures.isEmpty, "\(failures.count) rounds lost a request; first: \(failures.prefix(3))")
    }

    struct Totals {
        var machines = 0, requests = 0, answers = 0, reboots = 0, releases = 0, stops = 0
    }

    /// One coordinator with its fake lock, lock server and clock, through several rounds.
    final class Machine {
        let coordinator: RebootCoordinator
        let lock = FakeRebootLock()
        let clock = ManualHostClock(RebootCoordinatorStressTests.noon)
        let server: LockServer
        let windowed: Bool
        var rounds = 0
        var stopped = false
        var version = 0

        init(_ random: inout SplitMix64) throws {
            var settings = RebootSettings()
            settings.strategy = .etcdLock
            settings.lockRetrySeconds = 1
            windowed = random.next() % 4 == 0
            if windowed {
                // Closed at noon; once open, it stays open for the rest of the machine's life.
                settings.windowStart = "sat 14:00"
                settings.windowLength = "144h"
            }
            let held = Bool.random(using: &random)
            server = LockServer(held: held)
            // Without coordinator.conf: rewriting it at each change of phase would be most of the
            // time (RebootCoordinatorTests checks the file).
            coordinator = try RebootCoordinator(settings: settings, machineID: "0123456789abcdef0123456789abcdef",
                                                held: held, clock: clock, lock: lock, role: .coordinating(nil),
                                                persistHeld: { _ in },
                                                logger: Logger(label: "stress") { _ in SwiftLogNoOpLogHandler() })
            coordinator.setRebooter { [lock, server] version in
                lock.record("reboot \(version ?? "-")" + (server.held ? "" : " WITHOUT THE LOCK"))
                return nil
            }
        }

        /// Random requests while the lock answers at random; then either a stop, or the lock
        /// answering until every request is served. Returns what was lost.
        func round(_ random: inout SplitMix64, last: Bool, totals: inout Totals) throws -> [String] {
            if rounds == 0 { totals.machines += 1 }
            rounds += 1
            let start = lock.journal.count
            var answers = SplitMix64(seed: random.next())
            lock.answerAcquire { [server] in
                let answer = FakeRebootLock.Answer.allCases[Int(answers.next() % 3)]
                if answer == .yes { server.set(true) }
                return answer
            }
            lock.answerRelease { [server] in
                let answer = FakeRebootLock.Answer.allCases[Int(answers.next() % 3)]
                if answer == .yes { server.set(false) }
                return answer
            }
            for _ in 0..<Int(1 + random.next() % 8) {
                totals.requests += 1
                switch random.next() % 12 {
                case 0, 1, 2:
                    version += 1
                    lock.record("request: ready v\(version)")
                    coordinator.updateReady(version: "v\(version)")
                case 3:
                    lock.record("request: dropped")
                    coordinator.updateDropped()
                case 4, 5:
                    lock.record("request: release")
                    coordinator.blessed()
                case 6:
                    let kind: BootReport.Kind? = [.normal, .blessed, nil, .trial, .fallback][Int(random.next() % 5)]
                    lock.record(kind == .trial || kind == .fallback ? "request: keep" : "request: release")
                    coordinator.bootAssessed(kind)
                case 7, 8:
                    clock.advance(by: Double(random.next() % 400))
                default:
                    sched_yield()
                }
            }

            var lost: [String] = []
            if random.next() % 10 == 0 {
                // A stop while the worker may be busy: it must end, and nothing may start after.
                totals.stops += 1
                try stop()
                let settled = lock.journal.count
                coordinator.updateReady(version: "after-stop")
                coordinator.blessed()
                try stop()
                if lock.journal.count != settled { lost.append("the worker ran after stop") }
            } else {
                // The lock answers from now on, and the window is open. Time moves on (past any
                // retry wait) until every request was served, or `settleSeconds` pass.
                lock.answerAcquire { [server] in server.set(true); return .yes }
                lock.answerRelease { [server] in server.set(false); return .yes }
                let opened = RebootCoordinatorStressTests.noon.addingTimeInterval(2 * 3600 + 60)
                if windowed && clock.now() < opened { clock.set(opened) }
                let deadline = MonotonicClock.now() + RebootCoordinatorStressTests.settleSeconds
                while true {
                    let journal = lock.journal
                    lost = RebootCoordinatorStressTests.lost(in: journal, held: server.held)
                    if lost.isEmpty || MonotonicClock.now() > deadline { break }
                    clock.advance(by: 301)
                    lock.waitForEntries(beyond: journal.count, seconds: 0.05)
                }
                if last || !lost.isEmpty { try stop() }
            }
            let journal = lock.journal[start...]
            totals.reboots += journal.count { $0.hasPrefix("reboot ") }
            totals.releases += journal.count { $0 == "release" }
            totals.answers += journal.count { $0.hasPrefix("acquire") || $0.hasPrefix("release") }
            return lost
        }

        private func stop() throws {
            stopped = true
            try RebootCoordinatorStressTests.stop(coordinator, within: 10)
        }
    }

    /// The requests of `journal` left unserved, with `held` the lock server's state now.
    static func lost(in journal: [String], held: Bool) -> [String] {
        var lost = journal.filter { $0.hasSuffix("WITHOUT THE LOCK") }
        let lastReady = journal.lastIndex { $0.hasPrefix("request: ready ") }
        let lastDropped = journal.lastIndex { $0 == "request: dropped" } ?? -1
        if let lastReady, lastReady > lastDropped {
            let version = journal[lastReady].dropFirst("request: ready ".count)
            if !journal[(lastReady + 1)...].contains(where: { $0.hasPrefix("reboot \(version)") }) {
                lost.append("version \(version) was never rebooted into")
            }
        }
        // A slot asked back after the last grant and the last update must end up back.
        if let lastRelease = journal.lastIndex(of: "request: release"),
           lastRelease > (journal.lastIndex(of: "acquire: granted") ?? -1), lastRelease > (lastReady ?? -1), held {
            lost.append("the slot asked back at \(lastRelease) is still held")
        }
        return lost
    }

    /// Stops `coordinator` on a thread of its own, so that a worker that never ends fails the
    /// test instead of hanging it.
    static func stop(_ coordinator: RebootCoordinator, within seconds: Double) throws {
        let done = Condition()
        nonisolated(unsafe) var stopped = false
        let stopper = JoinableThread {
            coordinator.stop()
            done.locked {
                stopped = true
                done.broadcast()
            }
        }
        let ended = done.locked { done.wait(seconds: seconds) { stopped } }
        try #require(ended, "stop did not return: the worker never ended")
        stopper.join()
    }

    /// The lock as the server sees it: whether this machine holds a slot.
    final class LockServer: @unchecked Sendable {
        private let mutex = NSLock()
        private var value: Bool
        init(held: Bool) { value = held }
        var held: Bool { mutex.withLock { value } }
        func set(_ held: Bool) { mutex.withLock { value = held } }
    }
}
