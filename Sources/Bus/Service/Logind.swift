import BusCore
import Platform
import Synchronization

/// Rebooting through systemd-logind, which runs the shutdown properly (inhibitors, units
/// stopping in order) and needs only `CAP_SYS_BOOT` of tandemd.
public enum Logind {
    /// Asks logind for `Reboot(false)` (not interactive: no polkit prompt). On the loop thread;
    /// `completion` gets nil once logind accepted, else why not.
    public static func reboot(_ connection: BusConnection, completion: @escaping (String?) -> Void) {
        do {
            try connection.callAsync(destination: "org.freedesktop.login1", path: "/org/freedesktop/login1",
                                     interface: "org.freedesktop.login1.Manager", member: "Reboot",
                                     arguments: [.bool(false)]) { result in
                switch result {
                case .success:
                    completion(nil)
                case let .failure(error):
                    completion("logind did not reboot: \(error.message.isEmpty ? error.name : error.message); "
                        + "is systemd-logind running? (systemctl status systemd-logind)")
                }
            }
        } catch {
            completion("cannot ask logind to reboot: \(error)")
        }
    }

    /// A rebooter for `RebootCoordinator`, which calls it from its own thread: the call goes
    /// through the loop, and the answer comes back within `timeout` seconds, or at once when
    /// tandemd stops (`abandon`).
    public static func rebooter(_ connection: BusConnection, loop: EventLoop, timeout: Double = 30) -> LogindRebooter {
        LogindRebooter(connection: connection, loop: loop, timeout: timeout)
    }
}

/// Reboots through logind from any thread but the loop's, and lets the service stop end every
/// wait for logind's answer: the coordinator waiting for it is joined by the stop, and logind
/// (or whatever holds its name) may never answer.
public final class LogindRebooter: Sendable {
    /// Touched only on the loop thread, inside `post`.
    private nonisolated(unsafe) let connection: BusConnection
    private let loop: EventLoop
    private let timeout: Double
    private let waits = Mutex(Waits())

    private struct Waits {
        var pending: [ObjectIdentifier: Answer] = [:]
        var abandoned = false
    }

    init(connection: BusConnection, loop: EventLoop, timeout: Double) {
        self.connection = connection
        self.loop = loop
        self.timeout = timeout
    }

    /// Asks logind to reboot and waits for its answer: nil once logind accepted, else why not.
    public func reboot() -> String? {
        let answer = Answer()
        let admitted = waits.withLock { waits in
            guard !waits.abandoned else { return false }
            waits.pending[ObjectIdentifier(answer)] = answer
            return true
        }
        guard admitted else { return Self.stopping }
        defer { _ = waits.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(answer)) } }
        loop.post { [self] in
            Logind.reboot(connection) { failure in answer.set(failure) }
        }
        return answer.wait(timeout) ?? "logind did not answer within \(Int(timeout)) s"
    }

    /// Ends every wait for logind with a refusal, now and for later calls: tandemd is stopping.
    public func abandon() {
        let pending = waits.withLock { waits in
            waits.abandoned = true
            return Array(waits.pending.values)
        }
        for answer in pending { answer.set(Self.stopping) }
    }

    static let stopping = "tandemd is stopping, so it no longer waits for logind's answer"

    /// One answer handed from the loop thread to the waiting one; the first one set counts.
    private final class Answer: Sendable {
        private let value = Mutex<String??>(nil)
        private let condition = Condition()

        func set(_ failure: String?) {
            condition.locked {
                value.withLock { if $0 == nil { $0 = .some(failure) } }
                condition.broadcast()
            }
        }

        /// nil when no answer came in time; `.some(nil)` when logind accepted; else its refusal.
        func wait(_ seconds: Double) -> String?? {
            condition.locked {
                _ = condition.wait(seconds: seconds) { value.withLock { $0 } != nil }
                return value.withLock { $0 }
            }
        }
    }
}
