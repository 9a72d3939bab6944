import Foundation
import Slots
import TestSupport
import Testing

/// tandemd and its disk: it never dies because the disk cannot be read, and it writes the disk
/// only under the disk's lock, as every other writer must.
@Suite("tandemd and a troubled disk", .serialized) struct DiskTroubleTests {
    /// Zeroes both GPT headers: no table at all for libblkid or the GPT reader.
    static func zeroHeaders(_ disk: TestDisk) throws {
        let sectors = try disk.sizeInBytes / 512
        for lba in [1, sectors - 1] {
            try Shell.run(["dd", "if=/dev/zero", "of=\(disk.path)", "bs=512", "seek=\(lba)", "count=1", "conv=notrunc", "status=none"])
        }
    }

    /// Puts `snapshot` back: the disk repaired.
    static func restore(_ disk: TestDisk, from snapshot: String) throws {
        try Shell.run(["dd", "if=\(snapshot)", "of=\(disk.path)", "bs=1M", "conv=notrunc", "status=none"])
    }

    /// Expects marks and installs refused with the disk's problem, tandemd up, its status naming
    /// the problem (each refused call probed the disk again), and the disk unchanged.
    static func expectRefusing(_ harness: DaemonHarness, bundle: String) throws {
        let broken = try harness.disk.snapshot()
        let problem = "both GPT copies on \(harness.disk.path) are damaged"
        for command in [["mark-bad", "B"], ["mark-active", "A"], ["mark-good"], ["rollback"], ["update", bundle]] {
            let refused = try harness.updatectl(command)
            #expect(refused.status == 1, "\(command): \(refused.stdout)")
            #expect(refused.stderr.contains(problem), "\(command): \(refused.stderr)")
        }
        #expect(harness.daemon?.isRunning == true, "tandemd must survive its disk")
        let human = try harness.updatectl(["status"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.contains("Disk:         UNUSABLE"), "\(human.stdout)")
        #expect(human.stdout.contains(problem), "\(human.stdout)")
        let json = try harness.updatectlJSON(["status", "--json"])
        #expect((json["diskProblem"] as? String)?.contains(problem) == true, "\(json)")
        #expect(try harness.disk.identical(to: broken), "nothing may be written to a disk that cannot be read")
    }

    /// Started on a disk with no readable GPT, tandemd comes up and says why it refuses; once
    /// the disk is repaired it works without a restart; when the disk breaks under it, it
    /// refuses again rather than dying.
    @Test("an unreadable disk never stops tandemd; a repaired one works without a restart")
    func unreadableDisk() throws {
        let harness = try DaemonHarness()
        let bundle = try harness.fixture.bundle("v2.tandem", image: try harness.fixture.randomImage("image.raw", size: 1 << 20))
        let good = try harness.disk.snapshot()
        try Self.zeroHeaders(harness.disk)
        try harness.start()
        #expect(harness.log.contains("tandemd runs, but refuses installs and boot-flag changes"), "\(harness.log)")
        #expect(harness.log.contains("cannot tell what this boot is"), "\(harness.log)")
        try Self.expectRefusing(harness, bundle: bundle)

        try Self.restore(harness.disk, from: good)
        let marked = try harness.updatectl(["mark-bad", "B"])
        #expect(marked.status == 0, "\(marked.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) == 0)
        let json = try harness.updatectlJSON(["status", "--json"])
        #expect(json["diskProblem"] == nil && json["bootedSlot"] as? String == "A", "\(json)")
        let boot = try #require(json["boot"] as? [String: Any], "the boot is assessed once the disk can be read")
        #expect(boot["kind"] as? String == "normal" && boot["slot"] as? String == "A", "\(boot)")

        // The disk breaks while tandemd runs (it was replaced, or a careless sgdisk).
        try Self.zeroHeaders(harness.disk)
        try Self.expectRefusing(harness, bundle: bundle)
        try Self.restore(harness.disk, from: good)
        let active = try harness.updatectl(["mark-active", "B"])
        #expect(active.status == 0, "\(active.stderr)")
        #expect(harness.stop() == 0)
    }

    /// A rival holding the disk: tandemd's mark waits, fails busy naming the holder, and
    /// writes nothing; once the rival lets go, the same mark works.
    @Test("tandemd's flag changes take the disk's lock")
    func marksTakeTheDiskLock() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let before = try harness.disk.snapshot()
        let rival = try RivalLock(harness.disk.path)
        let refused = try harness.updatectl(["mark-bad", "B"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the disk \(harness.disk.path) is busy: flock (pid \(rival.pid)) holds its lock"),
                "\(refused.stderr)")
        #expect(try harness.disk.identical(to: before))
        rival.release()
        let marked = try harness.updatectl(["mark-bad", "B"])
        #expect(marked.status == 0, "\(marked.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) == 0)
        #expect(harness.stop() == 0)
    }

    /// state.json replaced by a directory: root ignores file modes, but no rename can replace a
    /// directory, so every write of the state fails as a full or read-only disk would make it.
    @Test("a state that cannot be saved: tandemd keeps running, StateProblem says why, and it clears once a write succeeds")
    func unsavableState() throws {
        // The configuration names its source when the harness is made; the bundle comes after.
        let sources = try Scratch()
        let source = sources.file("v2.tandem")
        let harness = try DaemonHarness(source: source)
        let image = try harness.fixture.randomImage("image.raw", size: 1 << 20)
        try FileManager.default.copyItem(atPath: try harness.fixture.bundle("v2.tandem", image: image), toPath: source)
        try harness.start()
        let state = harness.stateDirectory + "/state.json"
        try? FileManager.default.removeItem(atPath: state)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)

        let check = try harness.updatectl(["check"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(harness.daemon?.isRunning == true)
        let problem = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                          "StateProblem"]).stdout
        #expect(problem.contains("state.json"), "\(problem)")
        let human = try harness.updatectl(["status"])
        #expect(human.stdout.contains("State:        NOT SAVED"), "\(human.stdout)")

        try FileManager.default.removeItem(atPath: state)
        #expect(try harness.updatectl(["check"]).status == 0)
        let json = try harness.updatectlJSON(["status", "--json"])
        #expect(json["stateProblem"] == nil, "\(json)")
        #expect(FileManager.default.fileExists(atPath: state), "the state was written again")
        harness.stop()
    }
}
