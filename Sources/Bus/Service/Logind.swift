import BusCore
import Platform

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
    /// through the loop, and the answer comes back within `timeout` seconds.
    public static func rebooter(_ connection: BusConnection, loop: EventLoop, timeout: Double = 30) -> @Sendable () -> String? {
        // Touched only on the loop thread, inside `post`.
        nonisolated(unsafe) let connection = connection
        return {
            let answer = Answer()
            loop.post {
                reboot(connection) { failure in answer.set(failure) }
            }
            return answer.wait(timeout) ?? "logind did not answer within \(Int(timeout)) s"
        }
    }

    /// One answer handed from the loop thread to the waiting one.
    private final class Answer: @unchecked Sendable {
        private let condition = Condition()
        private var value: String??

        func set(_ failure: String?) {
            condition.locked {
                value = .some(failure)
                condition.broadcast()
            }
        }

        /// nil when no answer came in time; `.some(nil)` when logind accepted; else its refusal.
        func wait(_ seconds: Double) -> String?? {
            condition.locked {
                _ = condition.wait(seconds: seconds) { value != nil }
                return value
            }
        }
    }
}
