@testable import Engine
import Slots
import Testing

/// The host's transitions as pure functions of the saved state: no disk, no clock, no bus.
@Suite struct HostTransitionTests {
    static let record = TransactionRecord(id: "t1", source: "/b.tandem", startTime: 1, bootID: "boot-1", version: "2.0.0",
                                          imageSize: 1 << 20, targetSlot: .b, slotChoice: .auto, verifyReadback: true)
    static let pending = PendingReboot(slot: .b, version: "2.0.0", imageSize: 1 << 20, bootID: "boot-1", time: 5)
    static let staged = StagedUpdate(slot: .b, version: "2.0.0", size: 1 << 20, sha256: "ab", time: 5)
    static let result = ResultRecord(transaction: "t1", code: .success, message: "done", version: "2.0.0", time: 6, bootID: "boot-1")

    @Test("install: idle -> installing -> pending reboot, with the image and the version it replaced recorded")
    func install() {
        var state = DaemonState()
        #expect(state.hostState == .idle)
        state = state.applying(.transactionRecorded(Self.record))
        #expect(state.hostState == .installing(Self.record))
        let image = InstalledImage(version: "2.0.0", sha256: "ab", size: 1 << 20, time: 6)
        state = state.applying(.transactionEnded(Self.result, effects: [
            .imageWritten(partitionUUID: "uuid-b", image: image), .activated(Self.pending, previousVersion: "1.5.0"),
        ]))
        #expect(state.hostState == .pendingReboot(Self.pending))
        #expect(state.transaction == nil && state.lastResult == Self.result)
        #expect(state.slotVersions["uuid-b"] == image && state.omaha.previousVersion == "1.5.0")
    }

    @Test("stage, then activate: staged -> pending reboot")
    func stageThenActivate() {
        var state = DaemonState().applying(.transactionEnded(Self.result, effects: [.staged(Self.staged)]))
        #expect(state.hostState == .staged(Self.staged))
        state = state.applying(.transactionEnded(Self.result, effects: [.stagedDropped, .activated(Self.pending, previousVersion: "1.5.0")]))
        #expect(state.hostState == .pendingReboot(Self.pending) && state.staged == nil)
    }

    @Test("an install about to write the other slot drops what waited there")
    func targetWillBeWritten() {
        var state = DaemonState()
        state.pendingReboot = Self.pending
        state.staged = Self.staged
        state = state.applying(.targetWillBeWritten)
        #expect(state.pendingReboot == nil && state.staged == nil)
    }

    @Test("a stop keeps the transaction for the next start, marked as stopped on purpose")
    func stop() {
        let state = DaemonState().applying(.transactionRecorded(Self.record)).applying(.transactionStopped(at: 9))
        #expect(state.transaction?.stoppedAt == 9)
        #expect(DaemonState().applying(.transactionStopped(at: 9)) == DaemonState(), "nothing to stop: nothing changes")
    }

    @Test("blessing the booted trial slot ends the trial with a blessed report; another slot blesses nothing")
    func blessing() {
        var state = DaemonState()
        let trial = TrialBoot(slot: .b, version: "2.0.0", bootID: "boot-2", installBootID: "boot-1", since: 7)
        state.trial = trial
        #expect(state.hostState == .trial(trial))
        #expect(state.applying(.blessed(slot: .a, bootID: "boot-2", now: 8)) == state)
        let blessed = state.applying(.blessed(slot: .b, bootID: "boot-2", now: 8))
        #expect(blessed.hostState == .idle)
        #expect(blessed.lastBoot?.kind == .blessed && blessed.lastBoot?.installBootID == "boot-1" && blessed.lastBoot?.time == 8)
    }

    @Test("a rollback during the trial ends it")
    func rollback() {
        var state = DaemonState()
        state.trial = TrialBoot(slot: .b, version: "2.0.0", bootID: "boot-2", installBootID: "boot-1", since: 7)
        #expect(state.applying(.trialEnded(slot: .a)) == state)
        #expect(state.applying(.trialEnded(slot: .b)).trial == nil)
    }

    @Test("unquarantine removes the version, compared as a version")
    func unquarantine() {
        var state = DaemonState()
        state.quarantine = [QuarantinedVersion(version: "3.0.0", reason: .triesExhausted, slot: .b, bootID: "x", time: 1),
                            QuarantinedVersion(version: "4.0.0", reason: .markedBad, slot: .a, bootID: "y", time: 2)]
        #expect(state.applying(.unquarantined(version: "3.0.0")).quarantine.map(\.version) == ["4.0.0"])
        #expect(state.applying(.unquarantined(version: "5.0.0")) == state)
    }

    @Test("a check the server heard clears the previous version and the pending fallback report")
    func serverTold() {
        var state = DaemonState()
        #expect(state.omaha.previousVersion == nil, "a host that never updated: sent as 0.0.0.0")
        state.omaha.rollbackPending = true
        state = state.applying(.serverTold(at: 11))
        #expect(state.omaha.previousVersion == "" && !state.omaha.rollbackPending && state.lastCheckTime == 11)
    }

    @Test("a transaction wins over a trial, a trial over a pending reboot, which wins over a staged image")
    func precedence() {
        var state = DaemonState()
        state.staged = Self.staged
        state.pendingReboot = Self.pending
        #expect(state.hostState == .pendingReboot(Self.pending))
        let trial = TrialBoot(slot: .a, version: "1.5.0", bootID: "b", installBootID: "a", since: 1)
        state.trial = trial
        #expect(state.hostState == .trial(trial))
        state.transaction = Self.record
        #expect(state.hostState == .installing(Self.record))
    }
}
