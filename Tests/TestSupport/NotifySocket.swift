import Foundation

/// A stand-in for systemd's notification socket: tests hand its path to a service as
/// NOTIFY_SOCKET and read what the service reports (READY=1, STATUS=…, WATCHDOG=1). A thread
/// drains it all the time, as systemd does: a full socket queue would block the service.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32
    private let condition = NSCondition()
    private var received: [String] = []
    private var closed = false

    public init(directory: String) throws {
        path = directory + "/notify"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard descriptor >= 0, bound == 0 else {
            throw Shell.Failure(command: ["bind", path], output: .init(status: errno, stdout: "", stderr: String(cString: strerror(errno))))
        }
        Thread { [self] in drain() }.start()
    }

    deinit {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) >= 0 else { return }
            let stop = condition.withLock { closed }
            if stop { return }
            guard poller.revents & Int16(POLLIN) != 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
            condition.withLock {
                received += lines
                condition.broadcast()
            }
        }
    }

    /// Stops the draining thread; call when the test is done with the socket.
    public func stop() {
        condition.withLock { closed = true }
    }

    /// Every line received so far.
    public var lines: [String] { condition.withLock { received } }

    /// Waits until a line received from now on satisfies `match`; returns those lines.
    @discardableResult
    public func wait(timeout: Double, for match: (String) -> Bool) -> (found: Bool, lines: [String]) {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            let start = consumed
            while !received[start...].contains(where: match), condition.wait(until: deadline) {}
            let seen = Array(received[start...])
            consumed = received.count
            return (seen.contains(where: match), seen)
        }
    }

    /// Lines before this index were returned by an earlier `wait`.
    private var consumed = 0
}
