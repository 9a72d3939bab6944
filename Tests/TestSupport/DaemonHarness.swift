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
    /// The slot tandemd is told it runs from; a simulated reboot changes it.
    public private(set) var bootedSlot = SlotName.a
    /// The kernel's boot id as tandemd reads it; a simulated reboot writes a new one.
    public let bootIDFile: String
    private let osRelease: String
    private let source: String?
    private let settings: String

    public var disk: TestDisk { install.disk }
    public var fixture: BundleFixture { install.fixture }

    /// `settings` are extra tandem.conf lines, appended under their own section headers.
    public convenience init(kind: DiskKind = .imageFile, busPolicy: PrivateBus.Policy = .permissive, source: String? = nil,
                            settings: String = "") throws {
        try self.init(install: try InstallHarness(kind: kind), busPolicy: busPolicy, source: source, settings: settings)
    }

    /// tandemd on the disk and state directory of `install`, which a test has prepared (a
    /// `DeltaScenario`'s booted slot, say).
    public init(install: InstallHarness, busPolicy: PrivateBus.Policy = .permissive, source: String? = nil,
                settings: String = "") throws {
        try Integration.requireDBus()
        self.install = install
        bus = try PrivateBus(policy: busPolicy)
        let fixture = install.fixture
        notify = try NotifySocket(directory: fixture.directory.path)
        stateDirectory = install.stateDirectory
        logPath = fixture.path("tandemd.log")
        osRelease = fixture.path("os-release")
        bootIDFile = fixture.path("boot_id")
        configPath = fixture.path("tandem.conf")
        self.source = source
        self.settings = settings
        try writeHost(version: DaemonHarness.hostVersion)
        try newBootID()
        try writeConfiguration()
    }

    /// os-release of the system "running" from the booted slot.
    public func writeHost(version: String) throws {
        try "ID=\(BundleFixture.compatible)\nVERSION_ID=\(version)\n".write(toFile: osRelease, atomically: true, encoding: .utf8)
    }

    private func newBootID() throws {
        try UUID().uuidString.lowercased().write(toFile: bootIDFile, atomically: true, encoding: .utf8)
    }

    private func writeConfiguration() throws {
        try """
            # written by DaemonHarness
            [Slots]
            Disk=\(install.disk.path)
            BootedSlot=\(bootedSlot.rawValue)

            [Update]
            Source=\(source ?? "")
            KeysDirectory=\(install.fixture.keysDirectory)
            CheckpointInterval=1M

            [Host]
            OSRelease=\(osRelease)
            BootIDFile=\(bootIDFile)

            [Daemon]
            StateDirectory=\(stateDirectory)

            \(settings)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Plays a reboot: tandemd stops, the bootloader's `gptprio.next` model picks a slot (and
    /// uses up a try of a trial slot, on disk, as GRUB does), the kernel gets a new boot id, and
    /// tandemd starts on the chosen slot, running the version `versions` gives for it (the
    /// harness's host version by default). `choosing` plays a choice in the boot menu instead,
    /// which leaves the flags alone. Returns the slot booted.
    @discardableResult
    public func reboot(versions: [SlotName: String] = [:], choosing manual: SlotName? = nil) throws -> SlotName {
        if daemon != nil { stop() }
        let chosen = try manual ?? BootControl(pair: try install.pair()).nextBoot(commit: true).slot.name
        bootedSlot = chosen
        try newBootID()
        try writeHost(version: versions[chosen] ?? DaemonHarness.hostVersion)
        try writeConfiguration()
        try start()
        return chosen
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
