@testable import Engine
import Slots
import Testing

/// The one line `systemctl status tandemd` and `updatectl watch` show.
@Suite struct StatusSummaryTests {
    static func status(_ operation: UpdateOperation = .idle, newVersion: String? = nil, progress: ProgressReport = .none,
                       bootedVersion: String? = "3975.1.0", nextBootSlot: SlotName? = .a, lastResult: ResultRecord? = nil,
                       rebootPending: Bool = false) -> UpdaterStatus {
        UpdaterStatus(
            operation: operation, transaction: operation == .idle ? nil : "00c0ffee12345678", progress: progress,
            newVersion: newVersion, newSize: newVersion == nil ? 0 : 1 << 30, bootedSlot: .a, bootedVersion: bootedVersion,
            nextBootSlot: nextBootSlot, slots: [], lastResult: lastResult, rebootPending: rebootPending, lastCheckTime: 0)
    }

    static func result(_ code: ResultCode, _ message: String) -> ResultRecord {
        ResultRecord(transaction: "0123456789abcdef", code: code, message: message, version: "3975.2.1", time: 1, bootID: "b")
    }

    @Test func idle() {
        #expect(Self.status().summary == "booted A (3975.1.0); idle")
    }

    @Test func idleWithAnUnknownBootedVersion() {
        #expect(Self.status(bootedVersion: nil).summary == "booted A; idle")
    }

    @Test func anUnusableDiskIsShouted() {
        var status = Self.status()
        status.bootedSlot = nil
        status.diskProblem = "both GPT copies on /dev/sda are damaged"
        #expect(status.summary == "booted slot unknown (3975.1.0); THE SLOT DISK IS UNUSABLE (updatectl status); idle")
    }

    @Test func aRebootIsPending() {
        let status = Self.status(newVersion: "3975.2.1", nextBootSlot: .b, rebootPending: true)
        #expect(status.summary == "booted A (3975.1.0); version 3975.2.1 in slot B waits for a reboot")
    }

    @Test func aPendingRebootOutranksAFailedLastResult() {
        let status = Self.status(newVersion: "3975.2.1", nextBootSlot: .b, lastResult: Self.result(.failed, "x"),
                                 rebootPending: true)
        #expect(status.summary == "booted A (3975.1.0); version 3975.2.1 in slot B waits for a reboot")
    }

    @Test(arguments: [ResultCode.failed, .cancelled, .interrupted])
    func anUnsuccessfulLastResultIsShown(code: ResultCode) {
        let status = Self.status(lastResult: Self.result(code, "the download broke off"))
        #expect(status.summary == "booted A (3975.1.0); idle; last transaction \(code.name): the download broke off")
    }

    @Test(arguments: [ResultCode.success, .noUpdate])
    func aSuccessfulLastResultIsNotNews(code: ResultCode) {
        #expect(Self.status(lastResult: Self.result(code, "fine")).summary == "booted A (3975.1.0); idle")
    }

    @Test func writingShowsPercentAndRate() {
        let progress = ProgressReport(phase: .writing, bytesDone: 250 << 20, bytesTotal: 1000 << 20,
                                      bytesPerSecond: 123_456_789, secondsRemaining: 6.4)
        let status = Self.status(.writing, newVersion: "3975.2.1", progress: progress)
        #expect(status.summary == "booted A (3975.1.0); writing 3975.2.1: 25% at 117.7 MiB/s")
    }

    @Test func percentRoundsDown() {
        let progress = ProgressReport(phase: .writing, bytesDone: 999, bytesTotal: 1000, bytesPerSecond: 0, secondsRemaining: nil)
        #expect(Self.status(.writing, newVersion: "2", progress: progress).summary == "booted A (3975.1.0); writing 2: 99% at 0.0 MiB/s")
    }

    @Test func resumingAndVerifyingShowProgressToo() {
        let progress = ProgressReport(phase: .verifying, bytesDone: 3, bytesTotal: 4, bytesPerSecond: 2_000_000, secondsRemaining: 1)
        #expect(Self.status(.verifying, newVersion: "3975.2.1", progress: progress).summary
            == "booted A (3975.1.0); verifying 3975.2.1: 75% at 1.9 MiB/s")
        #expect(Self.status(.resuming, newVersion: nil, progress: progress).summary
            == "booted A (3975.1.0); resuming update: 75% at 1.9 MiB/s")
    }

    @Test func anUnknownTotalIsZeroPercent() {
        #expect(Self.status(.writing, newVersion: "3975.2.1").summary == "booted A (3975.1.0); writing 3975.2.1: 0% at 0.0 MiB/s")
    }

    @Test func phasesWithoutProgressNameTheVersionWhenKnown() {
        #expect(Self.status(.checking).summary == "booted A (3975.1.0); checking")
        #expect(Self.status(.preparing).summary == "booted A (3975.1.0); preparing")
        #expect(Self.status(.preparing, newVersion: "3975.2.1").summary == "booted A (3975.1.0); preparing 3975.2.1")
        #expect(Self.status(.finalizing, newVersion: "3975.2.1").summary == "booted A (3975.1.0); finalizing 3975.2.1")
    }
}

extension StatusSummaryTests {
    @Test func aTrialBootAndAFallbackAreNamed() {
        var status = Self.status()
        status.boot = BootReport(kind: .trial, bootedSlot: .a, version: "3975.1.0", reason: nil, bootID: "b",
                                 installBootID: "a", time: 0, message: "")
        #expect(status.summary == "booted A (3975.1.0) on trial, not yet blessed; idle")
        status.boot = BootReport(kind: .fallback, bootedSlot: .a, version: "3975.2.1", reason: .triesExhausted, bootID: "b",
                                 installBootID: "a", time: 0, message: "")
        #expect(status.summary == "booted A (3975.1.0) after a fallback: 3975.2.1 did not boot (tries exhausted); idle")
    }
}
