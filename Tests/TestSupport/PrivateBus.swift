import Foundation

/// A private dbus-daemon started by a test, configured like the system bus. Stopped when
/// released.
public final class PrivateBus {
    public enum Policy {
        /// Anyone may own any name, call anything and monitor.
        case permissive
        /// The default policy of /usr/share/dbus-1/system.conf (no owning names, no method
        /// calls unless a policy file allows them; signals, requested replies and calls to the
        /// bus itself allowed), root may own any name and monitor, and each file in `includes`
        /// (our shipped systemd/*.conf) is included.
        case systemLike(includes: [String])
    }

    /// "unix:path=/tmp/…/bus".
    public let address: String
    private let directory: String
    private let process: Process
    private var stopped = false

    /// The variables that point sd-bus (and busctl --system) at this bus.
    public var environment: [String: String] { ["DBUS_SYSTEM_BUS_ADDRESS": address] }

    public init(policy: Policy = .permissive) throws {
        var template = Array((NSTemporaryDirectory() + "/tandem-bus-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw Shell.Failure(command: ["mkdtemp"], output: .init(status: errno, stdout: "", stderr: String(cString: strerror(errno))))
        }
        directory = String(cString: created)
        // Others may traverse it, so that a caller run as another user (setpriv) can connect.
        chmod(directory, 0o755)
        let config = directory + "/bus.conf"
        try Self.configuration(listen: "unix:path=\(directory)/bus", policy: policy)
            .write(toFile: config, atomically: true, encoding: .utf8)

        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["dbus-daemon", "--config-file=\(config)", "--nofork", "--print-address"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let printed = try output.readFirstLine()
        guard printed.hasPrefix("unix:") else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            try? FileManager.default.removeItem(atPath: directory)
            throw Shell.Failure(command: process.arguments ?? [], output: .init(status: -1, stdout: printed, stderr: message))
        }
        // The printed address carries a guid; tools only need the path.
        address = printed.split(separator: ",").first.map(String.init) ?? printed
    }

    deinit {
        stop()
    }

    /// SIGKILL, because test children may inherit an ignored SIGTERM; then waits and removes
    /// the directory.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func configuration(listen: String, policy: Policy) -> String {
        let rules: String
        switch policy {
        case .permissive:
            rules = """
                  <policy context="default">
                    <allow user="*"/>
                    <allow own="*"/>
                    <allow send_type="method_call"/>
                    <allow send_destination="*" eavesdrop="true"/>
                    <allow eavesdrop="true"/>
                  </policy>
                """
        case let .systemLike(includes):
            rules = """
                  <policy context="default">
                    <allow user="*"/>
                    <deny own="*"/>
                    <deny send_type="method_call"/>
                    <allow send_type="signal"/>
                    <allow send_requested_reply="true" send_type="method_return"/>
                    <allow send_requested_reply="true" send_type="error"/>
                    <allow receive_type="method_call"/>
                    <allow receive_type="method_return"/>
                    <allow receive_type="error"/>
                    <allow receive_type="signal"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
                    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
                          send_member="UpdateActivationEnvironment"/>
                  </policy>
                  <policy user="root">
                    <allow own="*"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
                  </policy>

                """ + includes.map { "  <include>\($0)</include>\n" }.joined()
        }
        return """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>\(listen)</listen>
              <auth>EXTERNAL</auth>
            \(rules)
            </busconfig>

            """
    }
}
