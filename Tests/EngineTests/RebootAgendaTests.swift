import Coordination
@testable import Engine
import Foundation
import Testing
import TestSupport

/// The reboot coordinator's decisions, without threads: every request either finds a worker
/// that will still look at it or starts one, a newer version is never forgotten, and the slot
/// goes back before the next is taken.
@Suite struct RebootAgendaTests {
    static let noon = Date(timeIntervalSince1970: 1_795_262_400)

    /// Saturdays 14:00 for an hour, in UTC; it is noon.
    static func window() throws -> RebootWindow {
        try #require(try RebootWindow.configured(start: "sat 14:00", length: "1h", zone: .utc))
    }

    @Test func aRequestAfterTheWorkerFinishedStartsAnother() {
        var agenda = RebootAgenda(window: nil, usesLock: true, held: false)
        let first = agenda.updateReady("2.0.0"), second = agenda.updateReady("2.0.1")
        #expect(first, "the first request starts a worker")
        #expect(!second, "the running worker sees the second")
        #expect(agenda.nextStep(at: Self.noon) == .acquire(version: "2.0.1"))
        agenda.acquired()
        #expect(agenda.nextStep(at: Self.noon) == .reboot(version: "2.0.1"))
        agenda.rebooted(into: "2.0.1")
        #expect(agenda.nextStep(at: Self.noon) == .finish)
        #expect(!agenda.workerRunning)
        let restarted = agenda.releaseRequested()
        #expect(restarted, "the worker finished in the same step that saw no work: a new one starts")
        #expect(agenda.nextStep(at: Self.noon) == .release)
    }

    @Test func aNewerVersionIsNotOverwrittenByTheRebootIntoAnOlder() {
        var agenda = RebootAgenda(window: nil, usesLock: false, held: false)
        _ = agenda.updateReady("2.0.0")
        #expect(agenda.nextStep(at: Self.noon) == .reboot(version: "2.0.0"))
        // 2.0.1 comes in while logind is asked to reboot into 2.0.0.
        _ = agenda.updateReady("2.0.1")
        agenda.rebooted(into: "2.0.0")
        #expect(agenda.pending == "2.0.1")
        #expect(agenda.nextStep(at: Self.noon) == .reboot(version: "2.0.1"))
    }

    @Test func theSlotGoesBackBeforeTheNextIsTaken() {
        var agenda = RebootAgenda(window: nil, usesLock: true, held: true)
        let started = agenda.releaseRequested()
        #expect(started)
        _ = agenda.updateReady("3.0.0")
        #expect(agenda.nextStep(at: Self.noon) == .release)
        agenda.released()
        #expect(agenda.nextStep(at: Self.noon) == .acquire(version: "3.0.0"))
    }

    @Test func aReleaseWithNoSlotIsDropped() {
        var agenda = RebootAgenda(window: nil, usesLock: true, held: false)
        let started = agenda.releaseRequested()
        #expect(started)
        #expect(agenda.nextStep(at: Self.noon) == .finish)
        #expect(!agenda.releaseWanted)
        var unlocked = RebootAgenda(window: nil, usesLock: false, held: false)
        let unlockedStarted = unlocked.releaseRequested()
        #expect(!unlockedStarted, "no lock, nothing to give back")
    }

    @Test func outsideTheWindowTheLockIsNotAskedFor() throws {
        var agenda = RebootAgenda(window: try Self.window(), usesLock: true, held: false)
        _ = agenda.updateReady("2.0.0")
        let opening = Self.noon.addingTimeInterval(2 * 3600)
        #expect(agenda.nextStep(at: Self.noon) == .awaitWindow(version: "2.0.0", opening: opening))
        #expect(agenda.nextStep(at: opening.addingTimeInterval(60)) == .acquire(version: "2.0.0"))
    }

    @Test func afterStopNothingStarts() {
        var agenda = RebootAgenda(window: nil, usesLock: true, held: true)
        _ = agenda.updateReady("2.0.0")
        agenda.stop()
        #expect(agenda.nextStep(at: Self.noon) == .finish)
        let readyStarted = agenda.updateReady("2.0.1"), releaseStarted = agenda.releaseRequested()
        #expect(!readyStarted && !releaseStarted)
    }

    @Test func aDroppedUpdateEndsTheWorker() {
        var agenda = RebootAgenda(window: nil, usesLock: true, held: false)
        _ = agenda.updateReady("2.0.0")
        let generation = agenda.generation
        agenda.updateDropped()
        #expect(agenda.generation != generation, "a worker waiting to retry wakes up")
        #expect(agenda.nextStep(at: Self.noon) == .finish)
    }

    /// A random walk through requests, worker steps and lock answers: after every event, work
    /// that is waiting (a version to reboot into, a slot to give back) has a worker that will
    /// look at it. That is the property the old coordinator broke between two critical sections.
    @Test func workThatWaitsAlwaysHasAWorker() {
        var random = SplitMix64(seed: 0xA6E_4DA)
        var agenda = RebootAgenda(window: nil, usesLock: true, held: false)
        var checked = 0
        for event in 0..<200_000 {
            switch random.next() % 7 {
            case 0: _ = agenda.updateReady("v\(event)")
            case 1: agenda.updateDropped()
            case 2: _ = agenda.releaseRequested()
            case 3, 4, 5:
                guard agenda.workerRunning else { continue }
                switch agenda.nextStep(at: Self.noon) {
                case .release: if Bool.random(using: &random) { agenda.released() }
                case .acquire: if Bool.random(using: &random) { agenda.acquired() }
                case let .reboot(version): if Bool.random(using: &random) { agenda.rebooted(into: version) }
                case .awaitWindow, .finish: break
                }
            default:
                if random.next() % 50 == 0 { agenda = RebootAgenda(window: nil, usesLock: true, held: Bool.random(using: &random)) }
            }
            let work = agenda.pending != nil || (agenda.releaseWanted && agenda.held)
            if work {
                #expect(agenda.workerRunning, "work waits with no worker after event \(event)")
                checked += 1
            }
        }
        #expect(checked > 10_000)
    }
}
