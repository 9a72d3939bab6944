import Foundation
import FoundationXML
import Testing
import TestSupport

/// The unit and the D-Bus policies in systemd/, checked by the tools that will read them.
struct UnitFileTests {
    static let systemdDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd")
    static let policies = ["org.tandem.Updater1.conf", "com.coreos.update1.conf"]

    @Test func unitsPassSystemdAnalyzeVerify() throws {
        try Integration.require(Shell.which("systemd-analyze"), "systemd-analyze is missing (apt-get install systemd)")
        let scratch = try Scratch()
        let output = try verify(try installableUnit(in: scratch), try installableUnit("tandem-bless-boot.service", in: scratch))
        #expect(output.status == 0)
        // Unknown keys and bad values are only warnings, with exit status 0: any output fails.
        #expect(output.stderr.isEmpty && output.stdout.isEmpty, "\(output.stderr)\(output.stdout)")
    }

    /// The check above would notice a mistake: a misspelled key is reported.
    @Test func verifyReportsAMisspelledKey() throws {
        try Integration.require(Shell.which("systemd-analyze"), "systemd-analyze is missing (apt-get install systemd)")
        let scratch = try Scratch()
        let unit = try installableUnit(in: scratch)
        let text = try String(contentsOf: unit, encoding: .utf8).replacingOccurrences(of: "WatchdogSec=", with: "WatchDogSec=")
        try text.write(to: unit, atomically: true, encoding: .utf8)
        #expect(try verify(unit).stderr.contains("WatchDogSec"))
    }

    @Test func installPutsEveryFileInPlace() throws {
        try Integration.require(Shell.which("make"), "make is missing")
        let scratch = try Scratch()
        let binaries = scratch.url.appendingPathComponent("bin")
        for name in ["tandemd", "updatectl"] {
            try makeExecutable(binaries.appendingPathComponent(name))
        }
        let root = scratch.url.appendingPathComponent("root")
        // -o build: the binaries are stand-ins, nothing is compiled.
        try Shell.run(["make", "-s", "-C", Self.systemdDirectory.deletingLastPathComponent().path, "-o", "build", "install",
                       "DESTDIR=\(root.path)", "PREFIX=/usr", "BIN_DIR=\(binaries.path)"])
        let expected = [
            ("usr/sbin/tandemd", 0o755), ("usr/bin/updatectl", 0o755),
            ("usr/lib/systemd/system/tandemd.service", 0o644), ("usr/lib/systemd/system/tandem-bless-boot.service", 0o644),
            ("usr/share/dbus-1/system.d/org.tandem.Updater1.conf", 0o644),
            ("usr/share/dbus-1/system.d/com.coreos.update1.conf", 0o644),
            ("usr/share/doc/tandem/README.md", 0o644), ("usr/share/doc/tandem/architecture.md", 0o644),
        ]
        for (path, mode) in expected {
            let attributes = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(path).path)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
        }
        let unit = try String(contentsOf: root.appendingPathComponent("usr/lib/systemd/system/tandemd.service"), encoding: .utf8)
        #expect(unit.contains("\nExecStart=/usr/sbin/tandemd\n"))
        #expect(unit.contains("file:/usr/share/doc/tandem/README.md"))
        #expect(unit.firstMatch(of: /@[A-Z]+@/) == nil, "a placeholder was left unreplaced")
        let bless = try String(contentsOf: root.appendingPathComponent("usr/lib/systemd/system/tandem-bless-boot.service"), encoding: .utf8)
        #expect(bless.contains("\nExecStart=/usr/bin/updatectl mark-good booted\n"))
        #expect(bless.contains("\nRequires=boot-complete.target tandemd.service\n"))
        #expect(bless.firstMatch(of: /@[A-Z]+@/) == nil, "a placeholder was left unreplaced")
    }

    @Test(arguments: policies)
    func policyIsWellFormedXML(file: String) throws {
        let document = try XMLDocument(contentsOf: Self.systemdDirectory.appendingPathComponent(file), options: [])
        #expect(document.rootElement()?.name == "busconfig")
    }

    /// Who may call what, read from the files: everyone only the read-only members, the admin
    /// group the mutating ones. (Whether the bus enforces it is tested with the daemon.)
    @Test func policiesGrantReadingToAllAndChangesToAdmins() throws {
        let native = try policyRules("org.tandem.Updater1.conf")
        let readOnly: Set<String> = ["org.freedesktop.DBus.Introspectable.*", "org.freedesktop.DBus.Peer.*",
                                     "org.freedesktop.DBus.Properties.Get", "org.freedesktop.DBus.Properties.GetAll"]
        #expect(native.defaultDenies == ["org.tandem.Updater1"])
        // LockStatus only reads (who holds the fleet's reboot lock), as locksmithctl status does.
        #expect(native.defaultAllows == readOnly.union(["org.tandem.Updater1.LockStatus"]))
        #expect(native.adminAllows == Set(["Check", "Install", "Cancel", "Mark", "Rollback", "Unquarantine", "Activate", "LockRelease",
                                           "Reboot"].map { "org.tandem.Updater1.\($0)" }))
        #expect(native.rootOwns == "org.tandem.Updater1")

        let compat = try policyRules("com.coreos.update1.conf")
        #expect(compat.defaultDenies == ["com.coreos.update1"])
        #expect(compat.defaultAllows == readOnly.union(["com.coreos.update1.Manager.GetStatus"]))
        #expect(compat.adminAllows == ["com.coreos.update1.Manager.AttemptUpdate", "com.coreos.update1.Manager.ResetStatus"])
        #expect(compat.rootOwns == "com.coreos.update1")
    }

    @Test func dbusDaemonAcceptsThePolicies() throws {
        try Integration.require(Shell.which("dbus-daemon"), "dbus-daemon is missing (apt-get install dbus)")
        let scratch = try Scratch()
        let result = try startBus(including: Self.policies.map { Self.systemdDirectory.appendingPathComponent($0).path }, in: scratch)
        #expect(result.started, "dbus-daemon refused the policies: \(result.errors)")
    }

    /// The check above would notice a broken file: dbus-daemon refuses to start.
    @Test func dbusDaemonRefusesABrokenPolicy() throws {
        try Integration.require(Shell.which("dbus-daemon"), "dbus-daemon is missing (apt-get install dbus)")
        let scratch = try Scratch()
        let broken = scratch.url.appendingPathComponent("broken.conf")
        try #"<busconfig><policy user="root"><allow own="x" send_membr="y"/></policy></busconfig>"#
            .write(to: broken, atomically: true, encoding: .utf8)
        let result = try startBus(including: [broken.path], in: scratch)
        #expect(!result.started)
        #expect(result.errors.contains("send_membr"))
    }
}

// MARK: - Helpers

private func makeExecutable(_ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try "#!/bin/sh\nexit 0\n".write(to: url, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
}

/// A unit as `make install` would write it, pointing at stub executables (verify checks that
/// ExecStart= names an executable).
private func installableUnit(_ name: String = "tandemd.service", in scratch: Scratch) throws -> URL {
    let bin = scratch.url.appendingPathComponent("bin")
    for executable in ["tandemd", "updatectl"] { try makeExecutable(bin.appendingPathComponent(executable)) }
    let template = try String(contentsOf: UnitFileTests.systemdDirectory.appendingPathComponent(name), encoding: .utf8)
    let unit = scratch.url.appendingPathComponent(name)
    try template.replacingOccurrences(of: "@SBINDIR@", with: bin.path).replacingOccurrences(of: "@BINDIR@", with: bin.path)
        .replacingOccurrences(of: "@DOCDIR@", with: "/usr/share/doc/tandem")
        .write(to: unit, atomically: true, encoding: .utf8)
    return unit
}

/// The units' directory is searched first, so that dependencies between them resolve.
private func verify(_ units: URL...) throws -> Shell.Output {
    try Shell.capture(["systemd-analyze", "verify", "--man=no"] + units.map(\.path),
                      environment: ["SYSTEMD_UNIT_PATH": (units.first?.deletingLastPathComponent().path ?? "") + ":"])
}

private struct PolicyRules {
    var rootOwns: String?
    var defaultDenies: Set<String> = []
    /// `interface.member`, or `interface.*` for a whole interface.
    var defaultAllows: Set<String> = []
    var adminAllows: Set<String> = []
}

private func policyRules(_ file: String) throws -> PolicyRules {
    let document = try XMLDocument(contentsOf: UnitFileTests.systemdDirectory.appendingPathComponent(file), options: [])
    var rules = PolicyRules()
    for policy in try document.nodes(forXPath: "/busconfig/policy").compactMap({ $0 as? XMLElement }) {
        let context = policy.attribute(forName: "context")?.stringValue
        let user = policy.attribute(forName: "user")?.stringValue
        let group = policy.attribute(forName: "group")?.stringValue
        for rule in policy.children?.compactMap({ $0 as? XMLElement }) ?? [] {
            func value(_ name: String) -> String? { rule.attribute(forName: name)?.stringValue }
            let call = "\(value("send_interface") ?? "*").\(value("send_member") ?? "*")"
            switch (rule.name, context, user, group) {
            case ("allow", nil, "root", nil):
                if let own = value("own") { rules.rootOwns = own }
            case ("deny", "default", nil, nil):
                if let destination = value("send_destination") { rules.defaultDenies.insert(destination) }
            case ("allow", "default", nil, nil):
                rules.defaultAllows.insert(call)
            case ("allow", nil, nil, "wheel"):
                rules.adminAllows.insert(call)
            default:
                break
            }
        }
    }
    return rules
}

/// Starts a private dbus-daemon whose configuration includes `files`, and stops it again.
/// A daemon that prints its address has accepted the configuration; one that exits has not.
private func startBus(including files: [String], in scratch: Scratch) throws -> (started: Bool, errors: String) {
    let configuration = scratch.url.appendingPathComponent("bus.conf")
    let includes = files.map { "  <include>\($0)</include>" }.joined(separator: "\n")
    try """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <listen>unix:path=\(scratch.url.appendingPathComponent("bus").path)</listen>
          <auth>EXTERNAL</auth>
          <policy context="default"><allow user="*"/></policy>
        \(includes)
        </busconfig>
        """.write(to: configuration, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["dbus-daemon", "--config-file=\(configuration.path)", "--print-address", "--nofork"]
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // The address line comes once the configuration is loaded; end of file means it exited.
    let address = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    let started = address.hasPrefix("unix:")
    // SIGKILL, not terminate(): a child started by Process here was seen to inherit a signal
    // mask blocking SIGTERM, and then outlived the test.
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    let messages = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (started, messages)
}
