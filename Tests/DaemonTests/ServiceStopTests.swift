import Foundation
import Slots
import TestSupport
import Testing

/// `systemctl stop tandemd`, in each state where tandemd waits for something else: it exits
/// within a few seconds of SIGTERM, well inside the unit's TimeoutStopSec=90s, and the next
/// start reports the stop as a stop, not as a crash.
@Suite("tandemd stops within a bound") struct ServiceStopTests {
    /// SIGTERM, then the seconds until tandemd exited and its exit status.
    static func timedStop(_ harness: DaemonHarness) -> (seconds: Double, status: Int32) {
        let started = Date()
        let status = harness.stop()
        return (Date().timeIntervalSince(started), status)
    }

    /// The next start, told not to resume, reports the interrupted transaction as stopped.
    static func expectReportedStopped(_ harness: DaemonHarness, transaction: String) throws {
        let saved = try #require(try harness.savedState()["transaction"] as? [String: Any], "the transaction is kept for the next start")
        #expect(saved["id"] as? String == transaction)
        #expect(saved["stoppedAt"] != nil, "the stop is recorded")
        try "[Daemon]\nResumeInterrupted=no\n".append(to: harness.configPath)
        try harness.start()
        let last = try #require(try harness.updatectlJSON(["status", "--json"])["lastResult"] as? [String: Any])
        #expect(last["transaction"] as? String == transaction)
        #expect(last["code"] as? Int == 3)
        let message = last["message"] as? String ?? ""
        #expect(message.contains("tandemd was stopped during transaction \(transaction)"), "\(message)")
        #expect(harness.stop() == 0)
    }

    @Test("idle: tandemd exits 0 within a second")
    func idle() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let stop = Self.timedStop(harness)
        #expect(stop.status == 0, "\(harness.log)")
        #expect(stop.seconds < 1, "took \(stop.seconds) s")
    }

    @Test("a reboot waiting for a logind that never answers does not hold the stop")
    func logindNeverAnswers() throws {
        let (harness, root) = try RebootCoordinationTests.harness(reboot: "Strategy=reboot")
        defer { withExtendedLifetime(root) {} }
        let logind = try FakeLogind(address: harness.bus.address, answering: false)
        defer { logind.stop() }
        try harness.start()
        try RebootCoordinationTests.install(harness)
        #expect(try DaemonHarness.eventually { !logind.rebootCalls.isEmpty }, "\(harness.log)")
        let stop = Self.timedStop(harness)
        #expect(stop.status == 0, "\(harness.log)")
        // Before: the loop thread joined the coordinator, which waited 30 s for an answer that
        // only the loop could deliver.
        #expect(stop.seconds < 3, "took \(stop.seconds) s; log:\n\(harness.log)")
        #expect(!harness.log.contains("still stopping after"), "\(harness.log)")
    }

    @Test("an install waiting for the disk's lock, held by another program, stops at once; the next start reports the stop")
    func waitingForTheDiskLock() throws {
        let harness = try DaemonHarness()
        let image = try harness.fixture.randomImage("image.raw", size: 4 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image, version: "2.0.0")
        let holder = try FlockHolder(path: harness.disk.path)
        defer { holder.release() }
        try harness.start()
        let started = try harness.updatectl(["update", "--no-wait", bundle])
        #expect(started.status == 0, "\(started.stderr)")
        let transaction = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The version is known once the bundle is accepted, right before the wait for the lock
        // (DiskLock.defaultTimeout, 5 s).
        #expect(try DaemonHarness.eventually(timeout: 4) {
            (try harness.updatectlJSON(["status", "--json"])["newVersion"] as? String) == "2.0.0"
        }, "\(harness.log)")
        let stop = Self.timedStop(harness)
        #expect(stop.status == 0, "\(harness.log)")
        // Before: the stop waited out the lock's timeout, and the install then failed as busy.
        #expect(stop.seconds < 2, "took \(stop.seconds) s; log:\n\(harness.log)")
        #expect(!harness.log.contains("is busy"), "\(harness.log)")

        holder.release()
        try Self.expectReportedStopped(harness, transaction: transaction)
    }

    @Test("streaming an install: exits after a checkpoint; the next start reports the stop")
    func streaming() throws {
        let slow = try TransactionTests.SlowInstall(pauseAt: 8 << 20)
        try slow.harness.start()
        let transaction = try slow.startInstall()
        try slow.waitForBytes(3 << 20)
        let stop = Self.timedStop(slow.harness)
        #expect(stop.status == 0, "\(slow.harness.log)")
        #expect(stop.seconds < 2, "took \(stop.seconds) s")
        #expect(!slow.harness.log.contains("still stopping after"), "\(slow.harness.log)")
        try Self.expectReportedStopped(slow.harness, transaction: transaction)
    }

    /// Starts an install of `source` and returns its transaction once `ready` holds; then stops
    /// tandemd, expects a clean exit within `limit` seconds, and the stop reported at the next start.
    static func expectStop(within limit: Double, _ harness: DaemonHarness, installing source: String,
                           once ready: () throws -> Bool) throws {
        try harness.start()
        let started = try harness.updatectl(["update", "--no-wait", source])
        #expect(started.status == 0, "\(started.stderr)")
        let transaction = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try DaemonHarness.eventually(ready), "\(harness.log)")
        let stop = Self.timedStop(harness)
        #expect(stop.status == 0, "\(harness.log)")
        #expect(stop.seconds < limit, "took \(stop.seconds) s; log:\n\(harness.log)")
        #expect(!harness.log.contains("still stopping after"), "the wait itself ends, not the bound: \(harness.log)")
        try Self.expectReportedStopped(harness, transaction: transaction)
    }

    /// Before, libcurl waited for bytes up to its low-speed limit (60 s) and the stop with it.
    @Test("a transfer stalled mid-body: the stop ends the transfer at once; the next start reports the stop")
    func stalledTransfer() throws {
        let harness = try DaemonHarness()
        let image = try harness.fixture.randomImage("image.raw", size: 12 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        // The server stops sending 1 MiB in, past the bundle's preamble, for 120 s.
        let server = try BundleServer(file: bundle, arguments: ["--pause-at", "\(1 << 20)"])
        try Self.expectStop(within: 2, harness, installing: server.url) { harness.log.contains("bundle verified") }
    }

    /// Before, the back-off slept through the stop.
    @Test("a retry back-off: the stop ends the wait at once; the next start reports the stop")
    func retryBackOff() throws {
        let harness = try DaemonHarness()
        let image = try harness.fixture.randomImage("image.raw", size: 2 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        // Every request fails with 503: a transient failure, retried after 1, 2, 4, 8, 16 s.
        let server = try BundleServer(file: bundle, arguments: ["--mode", "status", "--status", "503"])
        // Three answers refused: the install now waits 4 s before the fourth.
        try Self.expectStop(within: 2, harness, installing: server.url) { try server.requests().count >= 3 }
    }

    /// Before, the coordinator's worker sat in the exchange until its half-hour timeout (servers
    /// may drain the node first), and the stop ended only at its 10 s bound.
    @Test("a FleetLock server that never answers: the stop ends the lock exchange at once")
    func fleetLockNeverAnswers() throws {
        let silent = try SilentListener()
        let (harness, root) = try RebootCoordinationTests.harness(reboot: "Strategy=fleetlock\nFleetLockURL=\(silent.url)")
        defer { withExtendedLifetime(root) {} }
        try harness.start()
        try RebootCoordinationTests.install(harness)
        #expect(try DaemonHarness.eventually {
            (try harness.updatectlJSON(["status", "--json"])["coordination"] as? [String: Any])?["phase"] as? String == "waiting-for-lock"
        }, "\(harness.log)")
        let stop = Self.timedStop(harness)
        #expect(stop.status == 0, "\(harness.log)")
        #expect(stop.seconds < 3, "took \(stop.seconds) s; log:\n\(harness.log)")
        #expect(!harness.log.contains("still stopping after"), "\(harness.log)")
    }

    /// Before, a check waited out the server's RequestTimeoutSec (here 10 minutes).
    @Test("an Omaha server that never answers a check: the stop ends the exchange at once")
    func omahaNeverAnswers() throws {
        let silent = try SilentListener()
        let scratch = try Scratch()
        _ = try scratch.write("0123456789abcdef0123456789abcdef\n", to: "etc/machine-id")
        let harness = try DaemonHarness(settings: """
            [Update]
            Server=\(silent.url)/v1/update/
            Strategy=off
            RequestTimeoutSec=600

            [Host]
            Root=\(scratch.path)
            """)
        try harness.start()
        let check = Process()
        check.executableURL = URL(fileURLWithPath: BuiltExecutable.path("updatectl"))
        check.arguments = ["check"]
        check.environment = harness.bus.environment
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        try check.run()
        defer { if check.isRunning { kill(check.processIdentifier, SIGKILL) } }
        #expect(try DaemonHarness.eventually {
            try harness.updatectlJSON(["status", "--json"])["operation"] as? String == "checking"
        }, "\(harness.log)")
        let stop = Self.timedStop(harness)
        #expect(stop.status == 0, "\(harness.log)")
        #expect(stop.seconds < 3, "took \(stop.seconds) s; log:\n\(harness.log)")
        #expect(!harness.log.contains("still stopping after"), "\(harness.log)")
    }
}

/// Holds the disk's flock with flock(1), as another partition writer would; without forking, so
/// that ending the process releases the lock.
final class FlockHolder {
    private let process = Process()

    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        process.arguments = ["--exclusive", "--no-fork", path, "sh", "-c", "echo held; exec sleep 120"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // flock(1) runs the command only once it holds the lock.
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("held") else {
            release()
            throw FixtureFailure(description: "flock(1) did not take the lock on \(path)")
        }
    }

    func release() {
        guard process.isRunning else { return }
        // SIGKILL: a child of the test runner may inherit SIGTERM blocked.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A loopback TCP port whose connections complete (the kernel's backlog) and never hear back.
final class SilentListener {
    private let socket: Int32
    let url: String

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound, listen(socket, 16) == 0 else {
            close(socket)
            throw FixtureFailure(description: "cannot listen on 127.0.0.1: errno \(errno)")
        }
        self.socket = socket
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
    }

    deinit {
        close(socket)
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    var description: String
}
