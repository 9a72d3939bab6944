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
    /// Real time a round may take to serve its requests once the lock answers; a correct
    /// coordinator needs milliseconds.
    static let settleSeconds = 2.0
    /// Saturday 2026-11-21 12:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_795_262_400)

    enum Request {
        case ready(String)
        case dropped
        case blessed
        case bootAssessed(BootReport.Kind?)
        case advance(Double)
        case yield
    }

    @Test func noRequestIsLostInTenThousandInterleavings() throws {
        // tmpfs: coordinator.conf is rewritten (and fsynced) at every change of phase.
        let directory = "/dev/shm/tandem-stress-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = SplitMix64(seed: 0x7A4D_E012_0005)
        var failures: [String] = []
        var requests = 0, reboots = 0, releases = 0, answers = 0, stops = 0
        let started = MonotonicClock.now()
        for round in 0..<Self.rounds {
            let outcome = try Self.runRound(&random, conf: "\(directory)/coordinator.conf")
            requests += outcome.requests
            reboots += outcome.journal.count { $0.hasPrefix("reboot ") }
            releases += outcome.journal.count { $0 == "release" }
            answers += outcome.journal.count { $0.hasPrefix("acquire") || $0.hasPrefix("release") }
            stops += outcome.stoppedEarly ? 1 : 0
            if !outcome.lost.isEmpty {
                failures.append("round \(round): \(outcome.lost.joined(separator: "; ")) in \(outcome.journal)")
            }
        }
        let seconds = MonotonicClock.now() - started
        print("reboot coordinator stress: \(Self.rounds) interleavings, \(requests) requests, \(answers) lock answers, "
            + "\(reboots) reboots, \(releases) releases, \(stops) stopped mid-way, \(failures.count) lost, "
            + String(format: "%.1f s", seconds))
        #expect(failures.isEmpty, "\(failures.count) rounds lost a request; first: \(failures.prefix(3))")
    }

    struct Outcome {
        var requests = 0
        var journal: [String] = []
        var lost: [String] = []
        var stoppedEarly = false
    }

    static func runRound(_ random: inout SplitMix64, conf: String) throws -> Outcome {
        var settings = RebootSettings()
        settings.strategy = .etcdLock
        settings.coordinatorConf = conf
        settings.lockRetrySeconds = 1
        if random.next() % 4 == 0 {
            // Closed at noon; once open, it stays open for the rest of the round.
            settings.windowStart = "sat 14:00"
            settings.windowLength = "144h"
        }
        let lock = FakeRebootLock()
        let clock = ManualRebootClock(noon)
        let initiallyHeld = Bool.random(using: &random)
        let server = LockServer(held: initiallyHeld)
        var answers = SplitMix64(seed: random.next())
        lock.answerAcquire {
            let answer = FakeRebootLock.Answer.allCases[Int(answers.next() % 3)]
            if answer == .yes { server.set(true) }
            return answer
        }
        lock.answerRelease {
            let answer = FakeRebootLock.Answer.allCases[Int(answers.next() % 3)]
            if answer == .yes { server.set(false) }
            return answer
        }
        let coordinator = try RebootCoordinator(settings: settings, machineID: "0123456789abcdef0123456789abcdef",
                                                held: initiallyHeld, clock: clock, lock: lock, persistHeld: { _ in },
                                                logger: Logger(label: "stress"))
        coordinator.setRebooter { version in
            lock.record("reboot \(version ?? "-")" + (server.held ? "" : " WITHOUT THE LOCK"))
            return nil
        }

        var outcome = Outcome()
        var version = 0
        for _ in 0..<Int(1 + random.next() % 8) {
            let request: Request = switch random.next() % 12 {
            case 0, 1, 2: .ready({ version += 1; return "v\(version)" }())
            case 3: .dropped
            case 4, 5: .blessed
            case 6: .bootAssessed([.normal, .blessed, nil, .trial, .fallback][Int(random.next() % 5)])
            case 7, 8: .advance(Double(random.next() % 400))
            default: .yield
            }
            outcome.requests += 1
            switch request {
            case let .ready(version):
                lock.record("request: ready \(version)")
                coordinator.updateReady(version: version)
            case .dropped:
                lock.record("request: dropped")
                coordinator.updateDropped()
            case .blessed:
                lock.record("request: release")
                coordinator.blessed()
            case let .bootAssessed(kind):
                let releases = kind != .trial && kind != .fallback
                lock.record(releases ? "request: release" : "request: keep")
                coordinator.bootAssessed(kind)
            case let .advance(seconds):
                clock.advance(by: seconds)
            case .yield:
                sched_yield()
            }
        }

        if random.next() % 10 == 0 {
            // A stop while the worker may be busy: it must end, and nothing may start after it.
            outcome.stoppedEarly = true
            try stop(coordinator, within: 10)
            let settled = lock.journal.count
            coordinator.updateReady(version: "after-stop")
            coordinator.blessed()
            try stop(coordinator, within: 10)
            outcome.journal = lock.journal
            if outcome.journal.count != settled { outcome.lost.append("the worker ran after stop") }
            return outcome
        }

        // The lock answers from now on; the window is open. Time moves on (past any retry wait)
        // until every request was served, or `settleSeconds` of real time pass without it.
        lock.answerAcquire { server.set(true); return .yes }
        lock.answerRelease { server.set(false); return .yes }
        if settings.windowStart != nil { clock.set(noon.addingTimeInterval(2 * 3600 + 60)) }
        let deadline = MonotonicClock.now() + settleSeconds
        while true {
            let journal = lock.journal
            if lost(in: journal, held: server.held).isEmpty || MonotonicClock.now() > deadline { break }
            clock.advance(by: 301)
            lock.waitForEntries(beyond: journal.count, seconds: 0.05)
        }
        try stop(coordinator, within: 10)
        outcome.journal = lock.journal
        outcome.lost = lost(in: outcome.journal, held: server.held)
        return outcome
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
