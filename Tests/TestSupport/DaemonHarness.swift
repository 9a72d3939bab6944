import Foundation
import Slots
import Testing

/// tandemd running for real: a private dbus-daemon, a disk (A booted and good, B holding an
/// older good image), signed bundles, and the daemon started with NOTIFY_SOCKET so that the
/// test sees its readiness exactly as systemd would.
public final class DaemonHarness {
    public let install: InstallHarness
    public let bus: PrivateBus
    public let notify: NotifySocket
    public let configPath: String
    public let stateDirectory: String
    public let logPath: String
    public private(set) var daemon: Process?
    public static let hostVersion = "1.5.0"

    public var disk: TestDisk { install.disk }
    public var fixture: BundleFixture { install.fixture }

    /// `settings` are extra tandem.conf lines, appended under their own section headers.
    public init(kind: DiskKind = .imageFile, busPolicy: PrivateBus.Policy = .permissive, source: String? = nil,
                settings: String = "") throws {
        try Integration.requireDBus()
        install = try InstallHarness(kind: kind)
        bus = try PrivateBus(policy: busPolicy)
        let fixture = install.fixture
        notify = try NotifySocket(directory: fixture.directory.path)
        stateDirectory = install.stateDirectory
        logPath = fixture.path("tandemd.log")
        let osRelease = fixture.path("os-release")
        try "ID=\(BundleFixture.compatible)\nVERSION_ID=\(DaemonHarness.hostVersion)\n".write(toFile: osRelease, atomically: true, encoding: .utf8)
        configPath = fixture.path("tandem.conf")
        try """
            # written by DaemonHarness
            [Slots]
            Disk=\(install.disk.path)
            BootedSlot=A

            [Update]
            Source=\(source ?? "")
            KeysDirectory=\(fixture.keysDirectory)
            CheckpointInterval=1M

            [Host]
            OSRelease=\(osRelease)

            [Daemon]
            StateDirectory=\(stateDirectory)

            \(settings)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit {
        if let daemon, daemon.isRunning {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        bus.stop()
        notify.stop()
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts tandemd and waits for READY=1; returns every notification line seen until then.
    @discardableResult
    public func start(arguments: [String] = [], environment: [String: String] = [:]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.path("tandemd"))
        process.arguments = ["--config", configPath] + arguments
        process.environment = ProcessInfo.processInfo.environment
            .merging(bus.environment) { $1 }
            .merging(["NOTIFY_SOCKET": notify.path]) { $1 }
            .merging(environment) { $1 }
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        daemon = process
        let (ready, lines) = notify.wait(timeout: 30) { $0 == "READY=1" }
        guard ready else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw StartFailure(description: "tandemd did not report READY=1 (exit \(process.terminationStatus)); log:\n\(self.log)")
        }
        return lines
    }

    /// SIGTERM, then the exit status.
    @discardableResult
    public func stop() -> Int32 {
        guard let daemon else { return -1 }
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        self.daemon = nil
        return daemon.terminationStatus
    }

    /// SIGKILL: a crash, as far as tandemd can tell.
    public func kill9() {
        guard let daemon else { return }
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        self.daemon = nil
    }

    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// `busctl` against the private bus, optionally as another user (setpriv).
    public func busctl(_ arguments: [String], asUser uid: UInt32? = nil) throws -> Shell.Output {
        try Shell.capture(DaemonHarness.asUser(uid) + ["busctl", "--address=\(bus.address)"] + arguments)
    }

    /// The built updatectl with DBUS_SYSTEM_BUS_ADDRESS pointing at the private bus.
    public func updatectl(_ arguments: [String], asUser uid: UInt32? = nil) throws -> Shell.Output {
        try Shell.capture(DaemonHarness.asUser(uid) + [BuiltExecutable.path("updatectl")] + arguments, environment: bus.environment)
    }

    public func updatectlJSON(_ arguments: [String]) throws -> [String: Any] {
        let output = try updatectl(arguments)
        guard output.status == 0 else { throw Shell.Failure(command: arguments, output: output) }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// The saved state, as JSON.
    public func savedState() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: stateDirectory + "/state.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Polls `condition` every 50 ms for up to `timeout` seconds.
    public static func eventually(timeout: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    private static func asUser(_ uid: UInt32?) -> [String] {
        guard let uid else { return [] }
        return ["setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"]
    }
}
