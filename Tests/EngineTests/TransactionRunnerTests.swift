@testable import Engine
import Synchronization
import Testing

/// One transaction at a time, and what stops it: without an installer, a disk or a bus.
@Suite struct TransactionRunnerTests {
    static func record(_ id: String) -> TransactionRecord {
        TransactionRecord(id: id, source: "/b.tandem", startTime: 1, bootID: "boot", slotChoice: .auto, verifyReadback: true)
    }

    @Test("a second transaction is refused as busy, naming the first, until the first ends")
    func oneAtATime() throws {
        let runner = TransactionRunner()
        try runner.claim(Self.record("t1"), isCheck: false, operation: .preparing)
        do {
            try runner.claim(Self.record("t2"), isCheck: false, operation: .preparing)
            Issue.record("a second claim must be refused")
        } catch {
            guard case let .busy(transaction, operation, _) = error else { Issue.record("busy, not \(error)"); return }
            #expect(transaction == "t1" && operation == .preparing)
        }
        #expect(runner.snapshot.record?.id == "t1")
        runner.end()
        #expect(runner.snapshot.record == nil && runner.snapshot.operation == .idle && runner.busyError == nil)
        try runner.claim(Self.record("t2"), isCheck: false, operation: .checking)
    }

    @Test("cancel: nothing to cancel when idle or during a check; an install gets its stop reason")
    func cancel() throws {
        let runner = TransactionRunner()
        #expect(runner.cancel(by: 0) == nil)
        try runner.claim(Self.record("check"), isCheck: true, operation: .checking)
        #expect(runner.cancel(by: 0) == nil, "a check ends by itself")
        runner.end()
        try runner.claim(Self.record("t1"), isCheck: false, operation: .preparing)
        #expect(runner.cancel(by: 1000) == "t1")
        #expect(runner.stopReason == .cancelled(uid: 1000))
        runner.report(operation: .writing, progress: .none)
        #expect(runner.snapshot.operation == .preparing, "once stopping, progress no longer moves the operation")
    }

    @Test("a service stop waits for the worker, marks the transaction as stopped for shutdown, and refuses new ones")
    func shutdown() throws {
        let runner = TransactionRunner()
        let ran = Mutex(false)
        try runner.claim(Self.record("t1"), isCheck: false, operation: .preparing)
        runner.start { ran.withLock { $0 = true } }
        let (worker, install) = runner.stopForShutdown()
        #expect(install == "t1", "the install to record as stopped")
        worker?.join()
        #expect(ran.withLock { $0 })
        #expect(runner.stopReason == .shutdown)
        #expect(runner.stopForShutdown().worker == nil, "a second stop has no worker to join")
        runner.end()
        #expect(throws: UpdaterError.self) { try runner.claim(Self.record("t2"), isCheck: false, operation: .preparing) }
    }
}
