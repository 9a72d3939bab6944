import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// Download-only: an install with `activate` off writes, checks and reads back the image but
/// leaves the slot unbootable; `activateStaged` later re-reads it and only then puts it on trial.
@Suite(.serialized)
struct StagingTests {
    /// Not a multiple of 4096, so the O_DIRECT re-read has an unaligned tail.
    static let imageSize = 4 * (1 << 20) + 999

    @Test func stagingWritesAndVerifiesButLeavesTheSlotUnbootable() throws {
        let setup = try InstallScenario(imageSize: Self.imageSize)
        let reports = ReportLog()
        let result = try setup.harness.installer { $0.activate = false }.install(setup.bundle) { reports.append($0) }
        #expect(!result.activated && result.readbackVerified && result.slot.name == .b)
        #expect(reports.all.contains { $0.phase == .verifying }, "staging still reads the slot back")
        #expect(try setup.harness.slotBHolds(setup.image))
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        #expect(!setup.harness.checkpointExists, "a staged install is finished: nothing to resume")
    }

    @Test(arguments: [DiskKind.imageFile, .loopDevice4K])
    func activatingAStagedSlotPutsItOnTrial(_ kind: DiskKind) throws {
        let harness = try InstallHarness(kind: kind)
        let image = try harness.fixture.randomImage("image.raw", size: Self.imageSize)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let (expectation, _) = try InstallHarness.announced(bundle)
        let staged = try harness.install(bundle) {
            $0.activate = false
            $0.expectedPayload = expectation
        }
        #expect(!staged.activated && staged.payloadSHA256 == expectation.sha256)
        #expect(try harness.disk.sgdiskAttributes(4) == 0)

        let reports = ReportLog()
        let slot = try harness.installer().activateStaged(
            slot: .b, imageSize: staged.manifest.imageSize, imageSHA256: staged.manifest.imageSHA256) { reports.append($0) }
        #expect(slot.name == .b && slot.partition.number == 4)
        #expect(reports.all.last?.phase == .verifying && reports.all.last?.bytesDone == UInt64(Self.imageSize))
        #expect(try harness.slotBHolds(image))
        try harness.expectInstalled(image)
    }

    @Test func aStagedSlotThatChangedIsNotActivated() throws {
        let setup = try InstallScenario(imageSize: Self.imageSize)
        let staged = try setup.harness.install(setup.bundle) { $0.activate = false }
        let slotB = try setup.harness.offset(ofPartition: 4)
        try BadBundleTests.flipByte(in: setup.harness.disk.path, at: slotB + UInt64(Self.imageSize / 3))
        #expect(!(try setup.harness.slotBHolds(setup.image)))
        #expect {
            try setup.harness.installer().activateStaged(
                slot: .b, imageSize: staged.manifest.imageSize, imageSHA256: staged.manifest.imageSHA256)
        } throws: { error in
            guard case let InstallError.stagedImageChanged("B", expected, actual) = error else { return false }
            return expected == hexString(staged.manifest.imageSHA256) && actual != expected
                && "\(error)".contains("no longer holds the verified image") && "\(error)".contains("install the update again")
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
    }

    @Test func theBootedSlotIsNeverActivated() throws {
        let setup = try InstallScenario(imageSize: Self.imageSize)
        let staged = try setup.harness.install(setup.bundle) { $0.activate = false }
        let before = try setup.harness.disk.snapshot()
        #expect {
            try setup.harness.installer().activateStaged(
                slot: .a, imageSize: staged.manifest.imageSize, imageSHA256: staged.manifest.imageSHA256)
        } throws: { error in
            guard case InstallError.targetIsBooted("A") = error else { return false }
            return true
        }
        #expect(try setup.harness.disk.identical(to: before))
    }
}
