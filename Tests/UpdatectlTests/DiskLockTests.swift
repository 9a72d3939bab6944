import Foundation
import Slots
import Testing
import TestSupport

/// One writer per disk: `updatectl disk` takes `flock(LOCK_EX)` on the disk, as systemd's
/// partition writers do, waits a bounded time for another holder, then fails naming it.
@Suite(.serialized)
struct DiskLockTests {
    /// A rival holding the disk: mark and install wait, fail with "busy" naming flock(1), and
    /// leave every byte of the disk as it was.
    @Test func aRivalHoldingTheDiskMakesWritersWaitThenFailNamingIt() throws {
        let harness = try InstallHarness()
        let bundle = try harness.fixture.bundle("v2.tandem", image: try harness.fixture.randomImage("image.raw", size: 1 << 20))
        let path = harness.disk.path
        let before = try harness.disk.snapshot()
        let rival = try RivalLock(path)
        defer { rival.release() }
        let commands: [[String]] = [
            ["disk", "mark", path, "B", "bad"],
            ["disk", "next-boot", path, "--commit"],
            ["disk", "repair", path],
            InstallCommandTests.installArguments(harness, bundle),
        ]
        for command in commands {
            let started = Date()
            let output = try Shell.capture([Updatectl.path] + command)
            let waited = Date().timeIntervalSince(started)
            #expect(output.status == 1, "\(command): \(output.stdout)")
            #expect(output.stderr.contains("the disk \(path) is busy: flock (pid \(rival.pid)) holds its lock"), "\(output.stderr)")
            #expect(output.stderr.contains("nothing was written"))
            #expect(waited >= DiskLock.defaultTimeout - 0.5, "\(command) gave up after \(waited) s instead of waiting")
            #expect(try harness.disk.identical(to: before), "\(command) changed the disk while another process held it")
        }
    }

    /// On a loop device the lock is the device node's: a rival holding /dev/loopN is seen.
    @Test func aRivalHoldingALoopDeviceIsSeen() throws {
        try TestDisk.with(.loopDevice) { disk in
            let before = try disk.snapshot()
            let rival = try RivalLock(disk.path)
            defer { rival.release() }
            let output = try Updatectl.run("disk", "set", disk.path, "B", "--priority", "3")
            #expect(output.status == 1)
            #expect(output.stderr.contains("the disk \(disk.path) is busy: flock (pid \(rival.pid)) holds its lock"), "\(output.stderr)")
            #expect(try disk.identical(to: before))
        }
    }

    /// A writer waiting for the lock goes ahead as soon as the rival lets go.
    @Test func aWaitingWriterProceedsOnceTheRivalReleases() throws {
        try TestDisk.with(.imageFile) { disk in
            let rival = try RivalLock(disk.path)
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: Updatectl.path)
            writer.arguments = ["disk", "mark", disk.path, "B", "trial", "--tries", "3"]
            writer.standardOutput = FileHandle.nullDevice
            writer.standardError = FileHandle.nullDevice
            try writer.run()
            // Once it holds the disk open for writing it has probed the disk and is at the lock.
            #expect(DaemonHarness.eventually(timeout: 4) { Self.hasOpen(disk.path, pid: writer.processIdentifier) })
            #expect(writer.isRunning, "the writer must still be waiting while the rival holds the disk")
            rival.release()
            writer.waitUntilExit()
            #expect(writer.terminationStatus == 0)
            #expect(BootAttributes(rawValue: try disk.sgdiskAttributes(4)) == BootAttributes(priority: 2, tries: 3, successful: false))
        }
    }

    /// 15 processes play the bootloader on one disk at once: each uses up exactly one try of
    /// the trial slot, so they must see 15 distinct counts (14 down to 0) and leave 0 tries, and
    /// the table stays sound, both copies alike. Without the lock, two read the same count
    /// and one try is never used up.
    @Test func concurrentCommandsOnOneDiskAreSerialized() throws {
        try TestDisk.with(.imageFile) { disk in
            _ = try Updatectl.run("disk", "set", disk.path, "B", "--priority", "2", "--tries", "15")
            let outputs = Outputs()
            let command = [Updatectl.path, "disk", "next-boot", disk.path, "--commit", "--json"]
            DispatchQueue.concurrentPerform(iterations: 15) { _ in
                outputs.append(try? Shell.capture(command))
            }
            let reports = try outputs.all.map { output in
                let output = try #require(output)
                #expect(output.status == 0, "\(output.stderr)")
                return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
            }
            #expect(Set(reports.compactMap { $0["triesLeft"] as? Int }) == Set(0..<15), "\(reports)")
            #expect(BootAttributes(rawValue: try disk.sgdiskAttributes(4)) == BootAttributes(priority: 2, tries: 0, successful: false))
            let verified = try disk.sgdiskVerifies()
            #expect(verified.clean, "\(verified.report)")
            #expect(try Self.entryArraysEqual(disk), "the primary and backup partition entries differ")
        }
    }

    /// Whether the primary (LBA 2) and backup (the 32 sectors before the last) entry arrays match.
    static func entryArraysEqual(_ disk: TestDisk) throws -> Bool {
        let sectors = try disk.sizeInBytes / 512
        let primary = try Shell.run(["sh", "-c", "dd if='\(disk.path)' bs=512 skip=2 count=32 status=none | openssl dgst -sha256 -r"])
        let backup = try Shell.run(["sh", "-c",
                                    "dd if='\(disk.path)' bs=512 skip=\(sectors - 33) count=32 status=none | openssl dgst -sha256 -r"])
        return primary == backup
    }

    /// Whether process `pid` has `path` open.
    static func hasOpen(_ path: String, pid: Int32) -> Bool {
        let directory = "/proc/\(pid)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return descriptors.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")) == path }
    }
}

/// Results gathered from concurrent threads.
private final class Outputs: @unchecked Sendable {
    private let lock = NSLock()
    private var outputs: [Shell.Output?] = []

    func append(_ output: Shell.Output?) {
        lock.withLock { outputs.append(output) }
    }

    var all: [Shell.Output?] { lock.withLock { outputs } }
}
