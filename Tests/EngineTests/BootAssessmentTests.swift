@testable import Engine
import Slots
import Testing
import TestSupport

/// Every outcome of a boot, from the pure assessment: no daemon, no bus, a fixed clock.
@Suite struct BootAssessmentTests {
    static let now: Int64 = 1_790_000_000
    static let installBoot = "install-boot"
    static let thisBoot = "this-boot"

    /// Slots A (partition 3) and B (partition 4) of a real GPT image (sgdisk), booted from `booted`.
    let harness: InstallHarness
    let pair: SlotPair
    let bootedA: BootedSlot
    let bootedB: BootedSlot

    init() throws {
        harness = try InstallHarness()
        pair = try harness.pair()
        bootedA = try BootedSlot.locate(disk: harness.disk.path, bootedSlot: "A")
        bootedB = try BootedSlot.locate(disk: harness.disk.path, bootedSlot: "B")
    }

    func inputs(booted: SlotName, a: BootAttributes, b: BootAttributes, saved: DaemonState,
                recorded: LastBoot? = nil) -> BootAssessment.Inputs {
        let table = BootTable(attributes: [pair[.a].partition.number: a, pair[.b].partition.number: b],
                              bootPartitions: [pair[.a].partition.number, pair[.b].partition.number])
        return BootAssessment.Inputs(saved: saved, table: table, booted: booted == .a ? bootedA : bootedB,
                                     bootID: Self.thisBoot, hostVersion: booted == .b ? "2.0.0" : "1.5.0",
                                     recordedBoot: recorded, now: Self.now)
    }

    static let good = BootAttributes(priority: 1, tries: 0, successful: true)
    static let onTrial = BootAttributes(priority: 2, tries: 0, successful: false)
    static let armed = BootAttributes(priority: 2, tries: 1, successful: false)

    /// B installed with 2.0.0 during an earlier boot and waiting for this reboot.
    static var pendingB: DaemonState {
        var state = DaemonState()
        state.pendingReboot = PendingReboot(slot: .b, version: "2.0.0", imageSize: 1 << 20, bootID: installBoot, time: now - 60)
        return state
    }

    @Test("nothing pending: a normal boot; the running version is remembered for its slot")
    func normalBoot() {
        let (report, state) = BootAssessment.assess(inputs(booted: .a, a: Self.good, b: Self.good, saved: DaemonState()),
                                                    fallbackSlotIntact: true)
        #expect(report.kind == .normal && report.bootedSlot == .a && report.reason == nil)
        #expect(state.lastBoot == report)
        #expect(state.slotVersions[pair[.a].partition.uniqueGUID.description]?.version == "1.5.0")
        #expect(state.omaha.alephVersion == "1.5.0")
    }

    @Test("the pending slot booted unproven: a trial, and the pending reboot becomes the trial record")
    func trialBoot() {
        let (report, state) = BootAssessment.assess(inputs(booted: .b, a: Self.good, b: Self.onTrial, saved: Self.pendingB),
                                                    fallbackSlotIntact: true)
        #expect(report.kind == .trial && report.version == "2.0.0" && report.installBootID == Self.installBoot)
        #expect(state.pendingReboot == nil)
        #expect(state.trial == TrialBoot(slot: .b, version: "2.0.0", bootID: Self.thisBoot, installBootID: Self.installBoot,
                                         since: Self.now))
    }

    @Test("the pending slot booted already marked good: a normal boot, no trial")
    func alreadyGood() {
        let (report, state) = BootAssessment.assess(inputs(booted: .b, a: Self.good, b: Self.good, saved: Self.pendingB),
                                                    fallbackSlotIntact: true)
        #expect(report.kind == .normal && report.message.contains("already marked good"))
        #expect(state.trial == nil && state.pendingReboot == nil)
    }

    @Test("the trial slot used up its tries: a fallback, quarantined, and the server is to hear of it")
    func triesExhausted() {
        var saved = DaemonState()
        saved.trial = TrialBoot(slot: .b, version: "2.0.0", bootID: "trial-boot", installBootID: Self.installBoot, since: 1)
        let input = inputs(booted: .a, a: Self.good, b: Self.onTrial, saved: saved)
        #expect(BootAssessment.slotToVerify(input)?.name == .b, "a slot that used up its tries is hashed again")
        let (report, state) = BootAssessment.assess(input, fallbackSlotIntact: true)
        #expect(report.kind == .fallback && report.reason == .triesExhausted && report.version == "2.0.0")
        #expect(report.message.contains("did not boot (tries exhausted)"), "\(report.message)")
        #expect(state.trial == nil)
        #expect(state.quarantine == [QuarantinedVersion(version: "2.0.0", reason: .triesExhausted, slot: .b,
                                                        bootID: Self.thisBoot, time: Self.now)])
        #expect(state.omaha.rollbackPending)
        #expect(state.lastResult?.code == .fellBack)
    }

    @Test("the slot that used up its tries no longer holds its image: verification failed")
    func verificationFailed() {
        let (report, state) = BootAssessment.assess(inputs(booted: .a, a: Self.good, b: Self.onTrial, saved: Self.pendingB),
                                                    fallbackSlotIntact: false)
        #expect(report.kind == .fallback && report.reason == .verificationFailed)
        #expect(state.quarantine.map(\.reason) == [.verificationFailed])
    }

    @Test("the new slot was marked bad before it proved itself: marked bad, and no re-hash")
    func markedBad() {
        let input = inputs(booted: .a, a: Self.good, b: BootAttributes(priority: 0, tries: 0, successful: false), saved: Self.pendingB)
        #expect(BootAssessment.slotToVerify(input) == nil)
        let (report, state) = BootAssessment.assess(input, fallbackSlotIntact: true)
        #expect(report.kind == .fallback && report.reason == .markedBad)
        #expect(state.quarantine.map(\.reason) == [.markedBad] && state.pendingReboot == nil)
    }

    @Test("the bootloader chose the old slot although the new one is still armed: not a failure, still pending")
    func notChosen() {
        let input = inputs(booted: .a, a: Self.good, b: Self.armed, saved: Self.pendingB)
        #expect(BootAssessment.slotToVerify(input) == nil)
        let (report, state) = BootAssessment.assess(input, fallbackSlotIntact: true)
        #expect(report.kind == .normal && report.reason == nil)
        #expect(report.message.contains("still waiting for its trial"), "\(report.message)")
        #expect(state.pendingReboot == Self.pendingB.pendingReboot && state.quarantine.isEmpty && !state.omaha.rollbackPending)
    }

    @Test("no slot is bootable: said in kind and message, whatever else the boot was")
    func noBootableSlot() {
        let dead = BootAttributes(priority: 0, tries: 0, successful: false)
        let (report, _) = BootAssessment.assess(inputs(booted: .a, a: dead, b: dead, saved: DaemonState()), fallbackSlotIntact: true)
        #expect(report.kind == .noBootableSlot)
        #expect(report.message.contains(BootAssessment.noBootableSlotWarning))
        // A restart during the same boot restores the report, without a second warning.
        var saved = DaemonState()
        saved.lastBoot = report
        let (again, _) = BootAssessment.assess(inputs(booted: .a, a: dead, b: dead, saved: saved), fallbackSlotIntact: true)
        #expect(again == report)
    }

    @Test("tandemd restarted during this boot: the first start's report stands")
    func restartKeepsTheReport() {
        let (first, state) = BootAssessment.assess(inputs(booted: .b, a: Self.good, b: Self.onTrial, saved: Self.pendingB),
                                                   fallbackSlotIntact: true)
        let (second, _) = BootAssessment.assess(inputs(booted: .b, a: Self.good, b: Self.onTrial, saved: state,
                                                       recorded: LastBoot(slot: .b, consumedTry: true)),
                                                fallbackSlotIntact: true)
        #expect(second == first)
    }

    @Test("a power cut after the install armed its slot, before it recorded its end: the boot into it is its trial")
    func interruptedTransactionThatBooted() {
        var saved = DaemonState()
        saved.transaction = TransactionRecord(id: "t1", source: "/b.tandem", startTime: 1, bootID: Self.installBoot, version: "2.0.0",
                                              imageSize: 1 << 20, targetSlot: .b, slotChoice: .auto, verifyReadback: true)
        let (report, state) = BootAssessment.assess(inputs(booted: .b, a: Self.good, b: Self.onTrial, saved: saved),
                                                    fallbackSlotIntact: true)
        #expect(report.kind == .trial && report.installBootID == Self.installBoot)
        #expect(state.trial?.slot == .b)
        #expect(state.transaction == saved.transaction, "settled by recoverInterruptedTransaction, not here")
    }

    @Test("the bootloader's record is added to the message, and a contradiction is named")
    func bootloaderRecord() {
        let (trial, _) = BootAssessment.assess(inputs(booted: .b, a: Self.good, b: Self.onTrial, saved: Self.pendingB,
                                                      recorded: LastBoot(slot: .b, consumedTry: true)), fallbackSlotIntact: true)
        #expect(trial.message.hasSuffix("the bootloader counted this boot as a try of slot B"), "\(trial.message)")
        let (odd, _) = BootAssessment.assess(inputs(booted: .a, a: Self.good, b: Self.good, saved: DaemonState(),
                                                    recorded: LastBoot(slot: .b, consumedTry: false)), fallbackSlotIntact: true)
        #expect(odd.message.contains("recorded booting slot B, not A"), "\(odd.message)")
    }
}
