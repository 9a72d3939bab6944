import Foundation
import Logging
import Testing
@testable import Service

/// Everything here changes process-wide environment variables (NOTIFY_SOCKET, WATCHDOG_*,
/// JOURNAL_STREAM), so the tests run one at a time and put the variables back.
@Suite(.serialized)
struct ProcessEnvironmentTests {
    @Test func notificationsArriveAsExactDatagrams() throws {
        let socket = try NotifyDatagrams()
        try withEnvironment(["NOTIFY_SOCKET": socket.path]) { () throws in
            #expect(try ServiceManager.ready())
            #expect(try socket.receive() == "READY=1")
            #expect(try ServiceManager.status("installing\nversion 2.0\r\n"))
            #expect(try socket.receive() == "STATUS=installing version 2.0 ")
            #expect(try ServiceManager.ping())
            #expect(try socket.receive() == "WATCHDOG=1")
            #expect(try ServiceManager.stopping())
            #expect(try socket.receive() == "STOPPING=1")
        }
    }

    @Test func notificationsAreSkippedOutsideSystemd() throws {
        try withEnvironment(["NOTIFY_SOCKET": nil]) { () throws in
            #expect(try ServiceManager.ready() == false)
            #expect(try ServiceManager.ping() == false)
        }
    }

    @Test func aMissingNotifySocketIsAnError() throws {
        let path = NSTemporaryDirectory() + "tandem-no-such-socket-\(UUID().uuidString)"
        try withEnvironment(["NOTIFY_SOCKET": path]) { () throws in
            let error = #expect(throws: ServiceManagerError.self) { try ServiceManager.ready() }
            #expect(error?.description.contains("READY=1") == true)
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func watchdogIntervalComesFromTheEnvironment() throws {
        let pid = String(getpid())
        try withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": pid]) { () throws in
            #expect(try ServiceManager.watchdogInterval == .seconds(30))
        }
        try withEnvironment(["WATCHDOG_USEC": "1500", "WATCHDOG_PID": nil]) { () throws in
            #expect(try ServiceManager.watchdogInterval == .microseconds(1500))
        }
    }

    @Test func watchdogBelongsToTheNamedProcessOnly() throws {
        try withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": String(getpid() + 1)]) { () throws in
            #expect(try ServiceManager.watchdogInterval == nil)
        }
        try withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) { () throws in
            #expect(try ServiceManager.watchdogInterval == nil)
        }
    }

    @Test func invalidWatchdogSettingsAreReported() throws {
        try withEnvironment(["WATCHDOG_USEC": "soon", "WATCHDOG_PID": nil]) { () throws in
            let error = #expect(throws: ServiceManagerError.self) { try ServiceManager.watchdogInterval }
            #expect(error?.description.contains("WATCHDOG_USEC=soon") == true)
        }
    }

    @Test func journalIsChosenOnlyWhenStderrIsTheJournalStream() throws {
        var status = stat()
        try #require(fstat(STDERR_FILENO, &status) == 0)
        try withEnvironment(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]) { () throws in
            #expect(LoggingSetup.detectedDestination() == .journal)
        }
        // Inherited from a parent whose stderr went to the journal, but this stderr goes elsewhere.
        try withEnvironment(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino &+ 1)"]) { () throws in
            #expect(LoggingSetup.detectedDestination() == .standardError(timestamps: false))
        }
        try withEnvironment(["JOURNAL_STREAM": nil]) { () throws in
            #expect(LoggingSetup.detectedDestination() == .standardError(timestamps: true))
        }
    }
}

/// Sets (or with nil, unsets) variables for the duration of `body`, then restores them.
private func withEnvironment(_ variables: [String: String?], _ body: () throws -> Void) rethrows {
    let saved = variables.keys.map { ($0, getenv($0).map { String(cString: $0) }) }
    defer {
        for (name, value) in saved { set(name, value) }
    }
    for (name, value) in variables { set(name, value) }
    try body()
}

private func set(_ name: String, _ value: String?) {
    if let value { setenv(name, value, 1) } else { unsetenv(name) }
}

/// A datagram socket standing in for systemd's notification socket, read one datagram at a
/// time so that tests see exactly what each call sent (TestSupport's NotifySocket splits lines).
private final class NotifyDatagrams {
    let path: String
    private let directory: URL
    private let descriptor: CInt

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("notify").path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw Failure(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw Failure(description: "bind \(path): \(String(cString: strerror(errno)))") }
        // A missing datagram must fail the test, not hang it.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        try? FileManager.default.removeItem(at: directory)
    }

    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { throw Failure(description: "no datagram: \(String(cString: strerror(errno)))") }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}
