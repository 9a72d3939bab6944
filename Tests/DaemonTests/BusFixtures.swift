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
/// it was asked to do.
final class FakeLogind: BusObjectHandler, @unchecked Sendable {
    private let loop: EventLoop
    private let connection: BusConnection
    private let lock = NSLock()
    private var calls: [[BusValue]] = []

    var rebootCalls: [[BusValue]] { lock.withLock { calls } }

    init(address: String) throws {
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
        lock.withLock { calls.append(call.arguments) }
        call.reply()
    }

    func property(_ name: String, interface: String) -> BusValue? { nil }
}
