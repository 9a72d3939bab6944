import Foundation
import Slots
import Testing
import TestSupport

/// A flip interrupted after any single write or sync leaves a table that reads back valid,
/// with either all the old flags or all the new ones, and a later flip repairs the rest.
@Suite(.serialized)
struct GPTCrashTests {
    /// A flip is: backup entries, backup header, sync, primary entries, primary header, sync.
    static let operationsPerFlip = 6

    @Test(arguments: [DiskKind.imageFile, .loopDevice4K])
    func everyInterruptionLeavesOldOrNewFlags(_ kind: DiskKind) throws {
        try TestDisk.with(kind) { testDisk in
            let pristine = try testDisk.snapshot()
            let pair = try SlotPair(disk: try Disk.probe(testDisk.path))
            let oldFlags = try BootControl(pair: pair).read().table
            var newFlags = oldFlags
            newFlags.setTrial(4)

            var outcomes: [String] = []
            for cut in 0...Self.operationsPerFlip {
                try Shell.run(["dd", "if=\(pristine)", "of=\(testDisk.path)", "bs=1M", "conv=notrunc,fsync", "status=none"])
                let storage = FaultInjectingStorage(try DiskFile(path: testDisk.path, writable: true), operationsBeforeFailure: cut)
                let completed = (try? BootControl(pair: pair, storage: storage).setTrial(.b)) != nil
                #expect(completed == (cut == Self.operationsPerFlip), "cut after \(cut) operations: \(storage.log)")

                let reread = try BootControl(pair: pair).read().table
                let state = reread == oldFlags ? "old" : reread == newFlags ? "new" : "mixed"
                #expect(state != "mixed", "cut after \(cut) operations left a mixed table")
                outcomes.append(state)
                #expect(try testDisk.partitionContentsEqual(pristine))

                // Whatever was left, the next flip starts from what it reads and repairs the rest.
                try BootControl(pair: pair).markGood(.b)
                try expectFlags(on: testDisk, a: (1, 0, true), b: (2, 0, true))
            }
            // Old until the primary entries are overwritten (operation 4): from then the primary
            // fails its CRC until its header lands, and the already complete new backup is read.
            #expect(outcomes == ["old", "old", "old", "old", "new", "new", "new"])
        }
    }
}
