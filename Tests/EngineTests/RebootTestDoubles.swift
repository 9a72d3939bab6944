import Coordination
import Engine
import Foundation
import Platform

/// The fleet's lock, played by a test: each answer comes from a closure the test sets (granted,
/// not yet, or an error), and every call goes into one journal, in order with whatever else the
/// test records there (the reboots, its own requests), so that the order of events can be
/// judged afterwards.
final class FakeRebootLock: RebootLock, @unchecked Sendable {
    enum Answer: CaseIterable {
        case yes
        case notYet
        case error
    }

    private let condition = Condition()
    private var acquireAnswer: () -> Answer = { .notYet }
    private var releaseAnswer: () -> Answer = { .yes }
    private var calls: [String] = []

    /// Acquires are granted from now on, or refused.
    func grant(_ value: Bool) { answerAcquire(value ? { .yes } : { .notYet }) }
    /// `pick` is called under the lock's mutex, so it may use state of its own without one.
    func answerAcquire(_ pick: @escaping () -> Answer) { condition.locked { acquireAnswer = pick } }
    func answerRelease(_ pick: @escaping () -> Answer) { condition.locked { releaseAnswer = pick } }

    var journal: [String] { condition.locked { calls } }

    func record(_ call: String) {
        condition.locked {
            calls.append(call)
            condition.broadcast()
        }
    }

    /// Waits up to `seconds` for the journal to grow beyond `count` entries.
    func waitForEntries(beyond count: Int, seconds: Double) {
        condition.locked { _ = condition.wait(seconds: seconds) { calls.count > count } }
    }

    func acquire() throws(RebootLockError) -> LockAttempt {
        let answer = condition.locked {
            let answer = acquireAnswer()
            let entry = switch answer {
            case .yes: "acquire: granted"
            case .notYet: "acquire: not yet"
            case .error: "acquire: error"
            }
            calls.append(entry)
            condition.broadcast()
            return answer
        }
        switch answer {
        case .yes: return .granted
        case .notYet: return .notYet(LockRefusal(kind: "semaphore_full", message: "semaphore is at 0"))
        case .error: throw .contended(key: "the test's semaphore", attempts: 1)
        }
    }

    func release() throws(RebootLockError) -> ReleaseAttempt {
        let answer = condition.locked {
            let answer = releaseAnswer()
            let entry = switch answer {
            case .yes: "release"
            case .notYet: "release: not yet"
            case .error: "release: error"
            }
            calls.append(entry)
            condition.broadcast()
            return answer
        }
        switch answer {
        case .yes: return .released
        case .notYet: return .notYet(LockRefusal(kind: "contended", message: "the semaphore changed meanwhile"))
        case .error: throw .contended(key: "the test's semaphore", attempts: 1)
        }
    }

    func status() throws(RebootLockError) -> LockStatus? { nil }
}

/// A clock the test moves: `now` is set or advanced by hand, and a timed wait lasts until the
/// clock passes its deadline (or the predicate holds), however long that takes in real time.
final class ManualHostClock: HostClock, @unchecked Sendable {
    private let mutex = NSLock()
    private var current: Date
    /// Every condition waited on, to wake when time moves.
    private var conditions: [ObjectIdentifier: Condition] = [:]

    init(_ start: Date) { current = start }

    func now() -> Date { mutex.withLock { current } }

    func set(_ date: Date) {
        let waiting = mutex.withLock {
            current = date
            return Array(conditions.values)
        }
        // Taking each condition's lock orders this after a waiter's check of its predicate, so
        // the broadcast cannot fall between the check and the wait.
        for condition in waiting { condition.locked { condition.broadcast() } }
    }

    func advance(by seconds: Double) {
        set(now().addingTimeInterval(seconds))
    }

    func wait(on condition: Condition, seconds: Double, until predicate: () -> Bool) -> Bool {
        let deadline = mutex.withLock {
            conditions[ObjectIdentifier(condition)] = condition
            return current.addingTimeInterval(seconds)
        }
        condition.wait { predicate() || now() >= deadline }
        return predicate()
    }
}
