import Foundation
import TestSupport
import Testing

/// Anyone may read; only root and the admin group may change things. Judged twice: with the
/// shipped policy files on a system-like bus (the bus refuses), and on a permissive bus (tandemd
/// refuses by itself, from the sender's credentials).
@Suite("authorization") struct AuthorizationTests {
    static let nobody: UInt32 = 65534
    static var shippedPolicies: [String] {
        let systemd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd")
        return ["org.tandem.Updater1.conf", "com.coreos.update1.conf"].map { systemd.appendingPathComponent($0).path }
    }

    @Test("with the shipped policy: an unprivileged caller reads status but is denied Install and Mark")
    func shippedPolicy() throws {
        let harness = try DaemonHarness(busPolicy: .systemLike(includes: Self.shippedPolicies))
        try harness.start()
        let status = try harness.updatectl(["status", "--json"], asUser: Self.nobody)
        #expect(status.status == 0, "\(status.stderr)")
        let getStatus = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager",
                                            "GetStatus"], asUser: Self.nobody)
        #expect(getStatus.status == 0, "\(getStatus.stderr)")
        let property = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                           "Operation"], asUser: Self.nobody)
        #expect(property.status == 0, "\(property.stderr)")

        let install = try harness.busctl(["call", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                          "Install", "sa{sv}", "/nonexistent", "0"], asUser: Self.nobody)
        #expect(install.status != 0 && install.stderr.contains("Access denied"), "\(install.stderr)")
        let mark = try harness.busctl(["call", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                       "Mark", "ss", "bad", "B"], asUser: Self.nobody)
        #expect(mark.status != 0 && mark.stderr.contains("Access denied"), "\(mark.stderr)")
        let attempt = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager",
                                          "AttemptUpdate"], asUser: Self.nobody)
        #expect(attempt.status != 0, "\(attempt.stdout)")
        let update = try harness.updatectl(["update", "/nonexistent"], asUser: Self.nobody)
        #expect(update.status == 3, "permission denied has its own exit status: \(update.status) \(update.stderr)")

        // Root passes the same policy.
        let rootMark = try harness.busctl(["call", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1",
                                           "Mark", "ss", "good", "booted"])
        #expect(rootMark.status == 0, "\(rootMark.stderr)")
        harness.stop()
    }

    @Test("without the policy files, tandemd itself denies, saying who may")
    func daemonCheck() throws {
        let harness = try DaemonHarness(busPolicy: .permissive)
        try harness.start()
        let before = try harness.disk.snapshot()
        // busctl shows AccessDenied as strerror's "Access denied"; updatectl shows tandemd's message.
        for (member, signature, arguments) in [("Install", "sa{sv}", ["/nonexistent", "0"]), ("Mark", "ss", ["bad", "B"]),
                                               ("Cancel", "", []), ("Rollback", "", []), ("Reboot", "a{sv}", ["0"])] {
            let call = try harness.busctl(["call", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", member]
                                              + (signature.isEmpty ? [] : [signature] + arguments), asUser: Self.nobody)
            #expect(call.status != 0 && call.stderr.contains("Access denied"), "\(member): \(call.stderr)")
        }
        for command in [["update", "/nonexistent"], ["mark-bad", "B"], ["cancel"], ["rollback"], ["reboot", "--force"]] {
            let denied = try harness.updatectl(command, asUser: Self.nobody)
            #expect(denied.status == 3, "\(command): \(denied.status)")
            #expect(denied.stderr.contains("needs root or membership in the group 'wheel'"), "\(command): \(denied.stderr)")
            #expect(denied.stderr.contains("the caller is uid 65534"), "\(command): \(denied.stderr)")
        }
        let reset = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager",
                                        "ResetStatus"], asUser: Self.nobody)
        #expect(reset.status != 0 && reset.stderr.contains("Access denied"), "\(reset.stderr)")
        let status = try harness.updatectl(["status"], asUser: Self.nobody)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try harness.disk.identical(to: before), "a denied caller changed nothing")
        harness.stop()
    }

    @Test("a member of the admin group may change things")
    func adminGroup() throws {
        // gid 65534 is "nogroup" on Debian: make it the admin group.
        let harness = try DaemonHarness(busPolicy: .permissive, settings: "[Daemon]\nAdminGroup=nogroup\n")
        try harness.start()
        let mark = try Shell.capture(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl",
                                      "--address=\(harness.bus.address)", "call", "org.tandem.Updater1", "/org/tandem/Updater1",
                                      "org.tandem.Updater1", "Mark", "ss", "good", "booted"])
        #expect(mark.status == 0, "\(mark.stderr)")
        harness.stop()
    }
}

/// tandemd owns both names on one connection, so each policy file's rules also match calls to
/// the other name, and the file dbus-daemon reads last used to win: uid 65534 was refused
/// `LockStatus` in one order and `GetStatus` in the other. Every documented read must pass and
/// every mutation be refused by the bus itself, in either order.
@Suite("bus policy in both include orders") struct BusPolicyOrderTests {
    static let tandem = ["org.tandem.Updater1", "/org/tandem/Updater1"]
    static let compat = ["com.coreos.update1", "/com/coreos/update1"]

    /// (destination and path, interface, member, busctl signature and arguments)
    static let reads: [([String], String, String, [String])] = [
        (tandem, "org.freedesktop.DBus.Properties", "GetAll", ["s", "org.tandem.Updater1"]),
        (tandem, "org.freedesktop.DBus.Properties", "Get", ["ss", "org.tandem.Updater1", "Operation"]),
        (tandem, "org.freedesktop.DBus.Introspectable", "Introspect", []),
        (tandem, "org.freedesktop.DBus.Peer", "Ping", []),
        (tandem, "org.tandem.Updater1", "LockStatus", []),
        (compat, "org.freedesktop.DBus.Properties", "GetAll", ["s", "com.coreos.update1.Manager"]),
        (compat, "org.freedesktop.DBus.Introspectable", "Introspect", []),
        (compat, "org.freedesktop.DBus.Peer", "Ping", []),
        (compat, "com.coreos.update1.Manager", "GetStatus", []),
    ]

    static let mutations: [([String], String, String)] = [
        (tandem, "org.tandem.Updater1", "Check"), (tandem, "org.tandem.Updater1", "Install"),
        (tandem, "org.tandem.Updater1", "Cancel"), (tandem, "org.tandem.Updater1", "Mark"),
        (tandem, "org.tandem.Updater1", "Rollback"), (tandem, "org.tandem.Updater1", "Reboot"),
        (tandem, "org.tandem.Updater1", "Unquarantine"), (tandem, "org.tandem.Updater1", "Activate"),
        (tandem, "org.tandem.Updater1", "LockRelease"), (tandem, "org.freedesktop.DBus.Properties", "Set"),
        (compat, "com.coreos.update1.Manager", "AttemptUpdate"), (compat, "com.coreos.update1.Manager", "ResetStatus"),
        (compat, "org.freedesktop.DBus.Properties", "Set"),
    ]

    @Test(arguments: [false, true])
    func documentedReadsPassAndMutationsAreRefusedByTheBus(reversed: Bool) throws {
        let includes = reversed ? AuthorizationTests.shippedPolicies.reversed() : AuthorizationTests.shippedPolicies
        let harness = try DaemonHarness(busPolicy: .systemLike(includes: includes))
        try harness.start()
        for (target, interface, member, arguments) in Self.reads {
            let call = try harness.busctl(["call"] + target + [interface, member] + arguments, asUser: AuthorizationTests.nobody)
            #expect(call.status == 0, "\(target[0]) \(interface).\(member) refused to uid 65534: \(call.stderr)")
        }
        let status = try harness.updatectl(["status", "--json"], asUser: AuthorizationTests.nobody)
        #expect(status.status == 0, "\(status.stderr)")
        let lock = try harness.updatectl(["lock", "status"], asUser: AuthorizationTests.nobody)
        #expect(!lock.stderr.contains("Rejected"), "\(lock.stderr)")
        // dbus-send shows the bus's own refusal ("Rejected send message"), not tandemd's.
        for (target, interface, member) in Self.mutations {
            let call = try Shell.capture(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dbus-send", "--system", "--print-reply",
                 "--dest=\(target[0])", target[1], "\(interface).\(member)"], environment: harness.bus.environment)
            #expect(call.status != 0 && call.stderr.contains("org.freedesktop.DBus.Error.AccessDenied")
                        && call.stderr.contains("Rejected send message"), "\(target[0]) \(interface).\(member): \(call.stderr)")
        }
        harness.stop()
    }
}
