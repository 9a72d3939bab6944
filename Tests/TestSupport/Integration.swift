import Foundation
import Testing

/// Whether the real parts the integration tests need are here. A test that needs them and
/// finds them missing is cancelled (reported as skipped) with a message saying what is
/// missing, unless TANDEM_REQUIRE_INTEGRATION=1, as CI sets, when it fails instead.
public enum Integration {
    public static var required: Bool {
        ProcessInfo.processInfo.environment["TANDEM_REQUIRE_INTEGRATION"] == "1"
    }

    /// sgdisk and sfdisk, which build the test disks and judge the results.
    public static var haveGPTTools: Bool {
        Shell.which("sgdisk") && Shell.which("sfdisk")
    }

    /// Root, the loop-device driver and losetup.
    public static var haveLoopDevices: Bool {
        getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/loop-control") && Shell.which("losetup")
    }

    /// dbus-daemon for a private bus, and busctl as the independent client.
    public static var haveDBus: Bool {
        Shell.which("dbus-daemon") && Shell.which("busctl")
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    public static func requireGPTTools() throws {
        try require(haveGPTTools, "sgdisk and sfdisk are missing (make deps installs them)")
    }

    public static func requireLoopDevices() throws {
        try requireGPTTools()
        try require(haveLoopDevices, "loop devices need root and /dev/loop-control")
    }

    public static func requireDBus() throws {
        try require(haveDBus, "dbus-daemon and busctl are missing (apt-get install dbus systemd)")
    }

    /// Skips (or, under TANDEM_REQUIRE_INTEGRATION=1, fails) unless `condition` holds; `what`
    /// says what is missing.
    public static func require(_ condition: Bool, _ what: String) throws {
        if condition { return }
        if required {
            throw Missing(description: "\(what), and TANDEM_REQUIRE_INTEGRATION=1 forbids skipping")
        }
        try Test.cancel("skipped: \(what); set TANDEM_REQUIRE_INTEGRATION=1 to make this a failure")
    }
}
