import BusCore
import Foundation
import Testing
import TestSupport

/// Signals and PropertiesChanged, seen by a BusConnection subscriber and by busctl monitor.
@Suite struct SignalTests {
    private func touch(_ service: TestService, _ name: String) throws {
        let output = try service.busctl(["call", TestAPI.name, TestAPI.path, TestAPI.interface, "Touch", "s", name])
        #expect(output.status == 0, "\(output.stderr)")
    }

    @Test func propertiesChangedReachesASubscriber() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        var received: [BusSignal] = []
        let match = try client.addMatch("type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
            + "path='\(TestAPI.path)'") { received.append($0) }
        try touch(service, "first")
        try wait(on: client) { !received.isEmpty }
        try #require(received.count == 1)
        let signal = received[0]
        #expect(signal.path == TestAPI.path)
        #expect(signal.interface == "org.freedesktop.DBus.Properties")
        #expect(signal.member == "PropertiesChanged")
        #expect(signal.sender?.hasPrefix(":") == true)
        // Name emits its value; Counter is declared to invalidate; Version is constant and left out.
        #expect(signal.arguments == [.string(TestAPI.interface), .dictionary([("Name", .string("first"))]),
                                     .array(elementSignature: "s", [.string("Counter")])])
        #expect(try client.getProperty(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, name: "Counter")
            == .uint64(1))

        match.cancel()
        try touch(service, "second")
        try client.processEvents(timeout: 0.5)
        #expect(received.count == 1)
    }

    @Test func matchRulesSelectSignals() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        var wanted: [BusSignal] = []
        var all: [BusSignal] = []
        let selective = try client.addMatch("type='signal',interface='\(TestAPI.interface)',member='Touched',arg0='wanted'") {
            wanted.append($0)
        }
        let broad = try client.addMatch("type='signal',sender='\(TestAPI.name)',interface='\(TestAPI.interface)'") { all.append($0) }
        try touch(service, "other")
        try touch(service, "wanted")
        try wait(on: client) { all.count == 2 && wanted.count == 1 }
        #expect(all.map(\.arguments) == [[.string("other")], [.string("wanted")]])
        #expect(wanted.map(\.arguments) == [[.string("wanted")]])
        #expect(wanted.first?.member == "Touched")
        withExtendedLifetime((selective, broad)) {}
    }

    @Test func busctlMonitorSeesTheSignals() throws {
        try Integration.requireDBus()
        try requireRoot("busctl monitor")
        let service = try TestService()
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        monitor.arguments = ["busctl", "--address=\(service.bus.address)", "--json=short", "monitor",
                             "--match=type='signal',path='\(TestAPI.path)'"]
        let output = Pipe()
        monitor.standardOutput = output
        monitor.standardError = FileHandle.nullDevice
        try monitor.run()
        defer {
            kill(monitor.processIdentifier, SIGKILL)
            monitor.waitUntilExit()
        }
        let text = Collected()
        output.fileHandleForReading.readabilityHandler = { handle in text.append(handle.availableData) }
        defer { output.fileHandleForReading.readabilityHandler = nil }

        // The monitor is ready at some point after it starts; touch until it reports.
        let deadline = Date().addingTimeInterval(10)
        var attempt = 0
        while !text.value.contains("\"Touched\"") && Date() < deadline {
            attempt += 1
            try touch(service, "seen\(attempt)")
            Thread.sleep(forTimeInterval: 0.2)
        }
        let lines = text.value.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let changed = lines.first { $0["member"] as? String == "PropertiesChanged" }
        #expect(changed?["interface"] as? String == "org.freedesktop.DBus.Properties")
        #expect(changed?["path"] as? String == TestAPI.path)
        let payload = (changed?["payload"] as? [String: Any])?["data"] as? [Any]
        #expect(payload?.first as? String == TestAPI.interface)
        #expect(payload?.last as? [String] == ["Counter"])
        let touched = lines.first { $0["member"] as? String == "Touched" }
        #expect(touched?["interface"] as? String == TestAPI.interface)
    }
}

/// Output gathered on a reader thread.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) {
        lock.lock()
        data.append(more)
        lock.unlock()
    }

    var value: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
