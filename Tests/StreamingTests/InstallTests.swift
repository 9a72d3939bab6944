import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

@Suite(.serialized)
struct InstallTests {
    /// Not a multiple of the chunk size or of 4096, so the unaligned tail path runs too.
    static let imageSize = 6 * (1 << 20) + 12_345

    @Test(arguments: [DiskKind.imageFile, .loopDevice, .loopDevice4K])
    func aSignedBundleLandsInTheInactiveSlotOnTrial(_ kind: DiskKind) throws {
        let harness = try InstallHarness(kind: kind)
        let image = try harness.fixture.randomImage("image.raw", size: Self.imageSize)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let before = try harness.disk.snapshot()
        let reports = ReportLog()
        let result = try harness.installer().install(bundle) { reports.append($0) }
        #expect(result.slot.name == .b && result.manifest.version == "2.0.0")
        #expect(result.readbackVerified && result.resumedFrom == 0)
        #expect(result.activated && result.payloadSHA256 == nil, "no expectation: activated, no whole-file digest")
        if kind.needsLoopDevices {
            #expect(result.usedDirectIO, "block devices take O_DIRECT writes")
        }
        try harness.expectInstalled(image)
        // Nothing outside slot B changed but the GPT.
        let offsetA = try harness.offset(ofPartition: 3)
        #expect(try Shell.capture(["cmp", "-i", "\(offsetA):\(offsetA)", "-n", "\(InstallHarness.slotBytes)", before, harness.disk.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: harness.stateDirectory + "/checkpoint.json"), "a finished install leaves no checkpoint")
        let writing = reports.all.filter { $0.phase == .writing }
        #expect(writing.last?.bytesDone == UInt64(Self.imageSize) && writing.last?.bytesTotal == UInt64(Self.imageSize))
        #expect(reports.all.contains { $0.phase == .verifying })
        #expect(zip(writing, writing.dropFirst()).allSatisfy { $0.bytesDone <= $1.bytesDone })
    }

    /// update_engine's clients expect progress per 1%: a small image, written in a moment,
    /// still reports every whole percent of the writing phase, in order.
    @Test func aSmallImageReportsEveryPercentWhileWriting() throws {
        let harness = try InstallHarness()
        let size = 14 << 20
        let image = try harness.fixture.randomImage("image.raw", size: size)
        let reports = ReportLog()
        _ = try harness.installer().install(try harness.fixture.bundle("v2.tandem", image: image)) { reports.append($0) }
        let written = reports.all.filter { $0.phase == .writing }.map(\.bytesDone)
        let percents = Set(written.map { $0 * 100 / UInt64(size) })
        #expect(percents.count >= 99, "\(written.count) reports, percents \(percents.sorted())")
        #expect(zip(written, written.dropFirst()).allSatisfy { $0 <= $1 }, "\(written)")
        #expect(written.last == UInt64(size))
    }

    @Test func readbackCanBeTurnedOff() throws {
        let harness = try InstallHarness()
        let image = try harness.fixture.randomImage("image.raw", size: 1 << 20)
        let reports = ReportLog()
        let result = try harness.installer { $0.verifyReadback = false }
            .install(try harness.fixture.bundle("v2.tandem", image: image)) { reports.append($0) }
        #expect(!result.readbackVerified)
        #expect(!reports.all.contains { $0.phase == .verifying })
        try harness.expectInstalled(image)
    }

    @Test func anExplicitSlotThatIsBootedIsRefused() throws {
        let harness = try InstallHarness()
        let bundle = try harness.fixture.bundle("v2.tandem", image: try harness.fixture.randomImage("image.raw", size: 4096))
        let before = try harness.disk.snapshot()
        #expect {
            try harness.install(bundle) { $0.slot = .a }
        } throws: { error in
            guard case InstallError.targetIsBooted("A") = error else { return false }
            return "\(error)".contains("booted slot")
        }
        #expect(try harness.disk.identical(to: before))
    }
}

extension InstallTests {
    @Test func aMountedTargetIsRefusedBeforeWriting() throws {
        let harness = try InstallHarness(kind: .loopDevice)
        let bundle = try harness.fixture.bundle("v2.tandem", image: try harness.fixture.randomImage("image.raw", size: 4096))
        try harness.disk.withMountedPartition(4) { mountPoint in
            let before = try harness.disk.snapshot()
            #expect { try harness.install(bundle) } throws: { error in
                guard case let InstallError.targetInUse("B", detail) = error else { return false }
                return detail.contains("mounted at \(mountPoint)") && "\(error)".contains("unmount it")
            }
            #expect(try harness.disk.identical(to: before))
        }
    }
}

/// Collects progress reports from the pipeline's writer thread.
final class ReportLog: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [InstallProgress] = []

    func append(_ report: InstallProgress) {
        lock.lock()
        reports.append(report)
        lock.unlock()
    }

    var all: [InstallProgress] {
        lock.lock()
        defer { lock.unlock() }
        return reports
    }
}
