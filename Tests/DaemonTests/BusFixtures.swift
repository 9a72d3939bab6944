import BusCore
import Foundation
import TestSupport

/// A client that listens exactly as locksmithd and the update operator do.
final class LocksmithListener {
    static let rule = "type='signal',interface='com.coreos.update1.Manager',member='StatusUpdate'"
    private let connection: BusConnection
    private var match: BusMatch?
    private(set) var operations: [String] = []
    private(set) var signatures: [String] = []
    /// The progress of every UPDATE_STATUS_DOWNLOADING signal, in arrival order.
    private(set) var downloadProgress: [Double] = []

    init(address: String) throws {
        connection = try BusConnection.connect(address: address)
        match = try connection.addMatch(LocksmithListener.rule) { [unowned self] signal in
            signatures.append(signal.arguments.map(\.signature).joined())
            if signal.arguments.count == 5, let operation = signal.arguments[2].stringValue {
                operations.append(operation)
                if operation == "UPDATE_STATUS_DOWNLOADING", let progress = signal.arguments[1].doubleValue {
                    downloadProgress.append(progress)
                }
            }
        }
    }

    /// Processes signals until `operation` arrives or `timeout` passes.
    func wait(for operation: String, timeout: Double = 60) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if operations.contains(operation) { return true }
            try connection.processEvents(timeout: 0.2)
        }
        return operations.contains(operation)
    }

    func drain(for seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { try connection.processEvents(timeout: 0.1) }
    }
}

/// systemd-logind cannot run here; this stands in for it on the private bus and records what
/// it was asked to do. With `answering: false` it takes the calls and never replies, as a hung
/// logind would.
final class FakeLogind: BusObjectHandler, @unchecked Sendable {
    private let loop: EventLoop
    private let connection: BusConnection
    private let answering: Bool
    private let lock = NSLock()
    private var calls: [[BusValue]] = []
    /// The calls left unanswered, kept so that nothing replies for them.
    private var unanswered: [BusMethodCall] = []

    var rebootCalls: [[BusValue]] { lock.withLock { calls } }

    init(address: String, answering: Bool = true) throws {
        self.answering = answering
        loop = try EventLoop()
        connection = try BusConnection.connect(address: address)
        try connection.attach(to: loop)
        try connection.export(self, path: "/org/freedesktop/login1", interfaces: [
            BusInterfaceDescription(name: "org.freedesktop.login1.Manager", methods: [.init("Reboot", inputs: [.init("interactive", "b")])]),
        ])
        try connection.requestName("org.freedesktop.login1")
        // The loop and the connection are used only by this thread from here on.
        Thread { [self] in _ = try? loop.run() }.start()
    }

    func stop() {
        loop.post { [loop] in loop.exit(0) }
    }

    func handle(_ call: BusMethodCall) {
        lock.withLock {
            calls.append(call.arguments)
            if !answering { unanswered.append(call) }
        }
        if answering { call.reply() }
    }

    func property(_ name: String, interface: String) -> BusValue? { nil }
}

/// `busctl monitor` on the private bus, writing what it sees to a file: the oracle for what
/// really went over the wire.
final class BusctlMonitor {
    private let process = Process()
    let outputPath: String

    /// Returns once the bus made busctl a monitor (it says so on stderr): from then on it sees
    /// every message.
    init(address: String, fixture: BundleFixture, match: String? = nil) throws {
        outputPath = fixture.path("monitor.txt")
        let logPath = fixture.path("monitor.log")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["busctl", "--address=\(address)", "monitor"] + (match.map { ["--match", $0] } ?? [])
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        let started = DaemonHarness.eventually(timeout: 10) {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").contains("Monitoring bus message stream")
        }
        guard started else {
            stop()
            throw Shell.Failure(command: process.arguments ?? [], output: Shell.Output(status: -1, stdout: "", stderr: "busctl monitor did not start"))
        }
    }

    var text: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
