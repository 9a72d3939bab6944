import Foundation
import Slots
import TestSupport
import Testing

/// One install at a time, cancel, a crash and a stop in the middle of streaming. The bundle is
/// served slowly over HTTP so that there is a middle to be in.
@Suite("tandemd transactions") struct TransactionTests {
    /// A 12 MiB image at 3 MiB/s: about four seconds of streaming. With `pauseAt`, the first
    /// transfer also stops at that offset, so a test that interrupts the install at a byte count
    /// below it cannot race the install to its end on a loaded machine.
    final class SlowInstall {
        let harness: DaemonHarness
        let image: String
        let server: BundleServer
        let snapshot: String

        init(rate: Int = 3 << 20, pauseAt: Int? = nil) throws {
            harness = try DaemonHarness()
            image = try harness.fixture.randomImage("image.raw", size: 12 << 20)
            let bundle = try harness.fixture.bundle("v2.tandem", image: image)
            server = try BundleServer(file: bundle, arguments: ["--rate", "\(rate)"] + (pauseAt.map { ["--pause-at", "\($0)"] } ?? []))
            snapshot = try harness.disk.snapshot()
        }

        func property(_ name: String) throws -> String {
            try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", name])
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Bytes written so far, from the Progress property (sttdd).
        func bytesDone() throws -> UInt64 {
            let fields = try property("Progress").split(separator: " ")
            return fields.count >= 3 ? UInt64(fields[2]) ?? 0 : 0
        }

        func startInstall() throws -> String {
            let started = try harness.updatectl(["update", "--no-wait", server.url])
            #expect(started.status == 0, "\(started.stderr)")
            return started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func waitForBytes(_ count: UInt64) throws {
            #expect(try DaemonHarness.eventually { try bytesDone() >= count }, "the install never reached \(count) bytes")
        }
    }

    @Test("a second install while busy is refused with Busy naming the running transaction")
    func busy() throws {
        let slow = try SlowInstall()
        try slow.harness.start()
        let transaction = try slow.startInstall()
        #expect(transaction.count == 16)
        try slow.waitForBytes(1 << 20)
        let second = try slow.harness.updatectl(["update", slow.server.url])
        #expect(second.status == 5, "\(second.stderr)")
        #expect(second.stderr.contains("busy: transaction \(transaction)"), "\(second.stderr)")
        let raw = try slow.harness.busctl(["call", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                           "Install", "sa{sv}", slow.server.url, "0"])
        #expect(raw.status != 0 && raw.stderr.contains(transaction), "\(raw.stderr)")
        let mark = try slow.harness.updatectl(["mark-bad", "B"])
        #expect(mark.status == 5, "slot changes wait for the install: \(mark.stderr)")
        _ = try slow.harness.updatectl(["cancel"])
        slow.harness.stop()
    }

    @Test("cancel mid-stream: Completed code 2, the target stays invalidated, the booted slot untouched")
    func cancel() throws {
        let slow = try SlowInstall()
        try slow.harness.start()
        let transaction = try slow.startInstall()
        try slow.waitForBytes(2 << 20)
        let cancel = try slow.harness.updatectl(["cancel"])
        #expect(cancel.status == 0 && cancel.stdout.contains(transaction), "\(cancel.stdout)\(cancel.stderr)")
        #expect(try DaemonHarness.eventually { try slow.property("Operation") == "s \"idle\"" })
        let last = try slow.property("LastResult")
        #expect(last.hasPrefix("(sissxs) \"\(transaction)\" 2 \"cancelled by uid 0"), "\(last)")
        try slow.harness.install.expectActiveUntouchedAndTargetUnbootable(since: slow.snapshot)
        let idle = try slow.harness.updatectl(["cancel"])
        #expect(idle.status == 1 && idle.stderr.contains("no install is running"), "\(idle.stderr)")
        slow.harness.stop()
    }

    @Test("killed mid-install and restarted: LastResult reports the interruption, then the install resumes and completes")
    func killedAndRestarted() throws {
        let slow = try SlowInstall(pauseAt: 7 << 20)
        try slow.harness.start()
        let transaction = try slow.startInstall()
        try slow.waitForBytes(5 << 20)
        slow.harness.kill9()
        let saved = try slow.harness.savedState()
        #expect((saved["transaction"] as? [String: Any])?["id"] as? String == transaction)
        #expect((saved["transaction"] as? [String: Any])?["stoppedAt"] == nil)

        let listener = try LocksmithListener(address: slow.harness.bus.address)
        try slow.harness.start()
        #expect(try listener.wait(for: "UPDATE_STATUS_UPDATED_NEED_REBOOT", timeout: 60), "\(slow.harness.log)")
        try slow.harness.install.expectInstalled(slow.image)
        let status = try slow.harness.updatectlJSON(["status", "--json"])
        let last = try #require(status["lastResult"] as? [String: Any])
        #expect(last["result"] as? String == "success")
        #expect((last["message"] as? String)?.contains("resumed after") == true, "\(last)")
        #expect(slow.harness.log.contains("tandemd crashed or was killed during transaction \(transaction)"), "\(slow.harness.log)")
        // The server saw a Range request: the resume did not start over.
        #expect(try slow.server.requests().contains { ($0["range"] ?? "").hasPrefix("bytes=") && $0["range"] != "bytes=0-" })
        slow.harness.stop()
    }

    /// Found by `make vm-test`: a power cut after the install put B on trial but before it
    /// recorded its end. The machine booted B; tandemd "resumed" the transaction into the slot
    /// that was not running, A, invalidating the only system known to boot.
    @Test("power cut between the trial flip and the end of the install: B's boot is its trial, and A is never touched")
    func powerCutAfterTheFlip() throws {
        let slow = try SlowInstall(pauseAt: 5 << 20)
        try slow.harness.start()
        _ = try slow.startInstall()
        try slow.waitForBytes(3 << 20)
        slow.harness.kill9()
        // The state file as the install left it once it knew its version and slot.
        let interrupted = try #require(try slow.harness.savedState()["transaction"] as? [String: Any])
        #expect(interrupted["targetSlot"] as? String == "B" && interrupted["version"] as? String == "2.0.0")
        try slow.harness.start()
        #expect(try DaemonHarness.eventually(timeout: 60) { try slow.property("RebootPending") == "b true" }, "\(slow.harness.log)")
        slow.harness.stop()
        // Put it back as a power cut right after the flip leaves it: the transaction still open, no
        // pending reboot recorded, B on trial on disk.
        var state = try slow.harness.savedState()
        state["transaction"] = interrupted
        state["pendingReboot"] = nil
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: slow.harness.stateDirectory + "/state.json"))
        let goodA = try slow.harness.disk.sgdiskAttributes(3)

        #expect(try slow.harness.reboot(versions: [.b: "2.0.0"]) == .b)
        let status = try slow.harness.updatectlJSON(["status", "--json"])
        let boot = try #require(status["boot"] as? [String: Any])
        #expect(boot["kind"] as? String == "trial" && boot["version"] as? String == "2.0.0", "\(boot)")
        let last = try #require(status["lastResult"] as? [String: Any])
        #expect(last["result"] as? String == "success" && (last["message"] as? String)?.contains("nothing is resumed") == true,
                "\(last)")
        #expect(status["operation"] as? String == "idle" && status["transaction"] == nil, "\(status)")
        #expect(try slow.harness.disk.sgdiskAttributes(3) == goodA, "A, the fallback, is untouched")
        #expect(try slow.harness.updatectl(["mark-good"]).status == 0)
        slow.harness.stop()
    }

    @Test("interrupted and not resumed: LastResult says exactly what happened")
    func interruptionReported() throws {
        let slow = try SlowInstall(pauseAt: 5 << 20)
        try slow.harness.start()
        let transaction = try slow.startInstall()
        try slow.waitForBytes(3 << 20)
        slow.harness.kill9()
        try "[Daemon]\nResumeInterrupted=no\n".append(to: slow.harness.configPath)
        try slow.harness.start()
        let last = try #require(try slow.harness.updatectlJSON(["status", "--json"])["lastResult"] as? [String: Any])
        #expect(last["transaction"] as? String == transaction)
        #expect(last["code"] as? Int == 3)
        let message = try #require(last["message"] as? String)
        #expect(message.contains("tandemd crashed or was killed"), "\(message)")
        #expect(message.contains("bytes were safely written"), "\(message)")
        #expect(message.contains("updatectl update \(slow.server.url)"), "\(message)")
        try slow.harness.install.expectActiveUntouchedAndTargetUnbootable(since: slow.snapshot)
        slow.harness.stop()
    }

    @Test("SIGTERM mid-install: exit 0 after a checkpoint; the next start resumes")
    func stopCheckpointsAndResumes() throws {
        let slow = try SlowInstall()
        try slow.harness.start()
        let transaction = try slow.startInstall()
        try slow.waitForBytes(3 << 20)
        #expect(slow.harness.stop() == 0)
        let saved = try slow.harness.savedState()
        let record = try #require(saved["transaction"] as? [String: Any])
        #expect(record["id"] as? String == transaction)
        #expect(record["stoppedAt"] != nil)
        let checkpoint = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: slow.harness.stateDirectory + "/checkpoint.json"))) as? [String: Any]
        #expect((checkpoint?["offset"] as? Int ?? 0) >= 3 << 20, "\(String(describing: checkpoint))")

        try slow.harness.start()
        #expect(try DaemonHarness.eventually(timeout: 60) { try slow.property("RebootPending") == "b true" }, "\(slow.harness.log)")
        try slow.harness.install.expectInstalled(slow.image)
        #expect(slow.harness.log.contains("tandemd was stopped during transaction \(transaction)"))
        slow.harness.stop()
    }
}

extension String {
    func append(to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(utf8))
    }
}
