import BusCore
import Foundation
import Slots
import TestSupport
import Testing
import Verification

/// Both D-Bus faces, judged by busctl, a real client with locksmith's match rule, and
/// `busctl monitor`.
@Suite("D-Bus API") struct DBusAPITests {
    static let properties: [(String, String)] = [
        ("Operation", "s"), ("Transaction", "s"), ("Progress", "(sttdd)"), ("NewVersion", "s"), ("NewSize", "t"),
        ("BootedSlot", "s"), ("DiskProblem", "s"), ("StateProblem", "s"), ("BootedVersion", "s"), ("NextBootSlot", "s"), ("Slots", "a(sssuyybs)"),
        ("LastResult", "(sissxs)"), ("RebootPending", "b"), ("LastCheckTime", "x"), ("Boot", "(ssssssxs)"),
        ("Quarantined", "a(ssssx)"), ("Strategy", "s"), ("UpdateChannel", "(sss)"), ("LastCheck", "(xsss)"),
        ("NextCheckTime", "x"), ("Staged", "(sstx)"),
    ]

    @Test("both objects introspect with every member")
    func introspection() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let native = try harness.busctl(["introspect", "org.tandem.Updater1", "/org/tandem/Updater1"])
        #expect(native.status == 0, "\(native.stderr)")
        for member in ["Check", "Install", "Activate", "Cancel", "Mark", "Rollback", "Reboot", "Unquarantine", "Completed"] + Self.properties.map(\.0) {
            #expect(native.stdout.contains(".\(member)"), "missing \(member) in\n\(native.stdout)")
        }
        #expect(native.stdout.contains("org.freedesktop.DBus.Properties"))
        let compat = try harness.busctl(["introspect", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager"])
        #expect(compat.status == 0, "\(compat.stderr)")
        for line in [".AttemptUpdate", ".GetStatus", ".ResetStatus", ".StatusUpdate"] {
            #expect(compat.stdout.contains(line), "missing \(line)")
        }
        #expect(compat.stdout.contains("xdssx"))
        let tree = try harness.busctl(["tree", "org.tandem.Updater1"])
        #expect(tree.stdout.contains("/org/tandem/Updater1"), "\(tree.stdout)")
        harness.stop()
    }

    @Test("GetStatus returns (x d s s x) with update_engine's strings")
    func getStatus() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let reply = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager", "GetStatus"])
        #expect(reply.status == 0, "\(reply.stderr)")
        #expect(reply.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "xdssx 0 0 \"UPDATE_STATUS_IDLE\" \"0.0.0\" 0")
        harness.stop()
    }

    @Test("every property reads with busctl get-property, with its signature")
    func properties() throws {
        let harness = try DaemonHarness()
        try harness.start()
        for (name, signature) in Self.properties {
            let value = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", name])
            #expect(value.status == 0, "\(name): \(value.stderr)")
            #expect(value.stdout.hasPrefix(signature + " "), "\(name): \(value.stdout)")
        }
        let slots = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "Slots"])
        #expect(slots.stdout.contains("\"A\" \"\(harness.disk.path) partition 3\" \"USR-A\" 3 2 0 true \"\(DaemonHarness.hostVersion)\""),
                "\(slots.stdout)")
        let booted = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "BootedSlot"])
        #expect(booted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "s \"A\"")
        let set = try harness.busctl(["set-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "Operation", "s", "x"])
        #expect(set.status != 0, "properties are read-only")
        harness.stop()
    }

    @Test("an install: busctl monitor sees StatusUpdate and PropertiesChanged; locksmith's rule gets UPDATED_NEED_REBOOT")
    func installSignals() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let image = try harness.fixture.randomImage("image.raw", size: 12 << 20 + 99)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let listener = try LocksmithListener(address: harness.bus.address)
        let monitor = try BusctlMonitor(address: harness.bus.address, fixture: harness.fixture)
        defer { monitor.stop() }

        let update = try harness.updatectl(["update", bundle])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(update.stdout.contains("installed version 2.0.0 into slot B"), "\(update.stdout)")
        try harness.install.expectInstalled(image)

        #expect(try listener.wait(for: "UPDATE_STATUS_UPDATED_NEED_REBOOT"))
        #expect(listener.signatures.allSatisfy { $0 == "xdssx" })
        // Every transition, in order: update_engine's clients must not miss one.
        let order = ["UPDATE_STATUS_UPDATE_AVAILABLE", "UPDATE_STATUS_DOWNLOADING", "UPDATE_STATUS_VERIFYING",
                     "UPDATE_STATUS_FINALIZING", "UPDATE_STATUS_UPDATED_NEED_REBOOT"].map { listener.operations.firstIndex(of: $0) }
        #expect(order.allSatisfy { $0 != nil } && order.map { $0 ?? 0 } == order.map { $0 ?? 0 }.sorted(), "\(listener.operations)")

        #expect(DaemonHarness.eventually(timeout: 5) {
            let text = monitor.text
            return text.contains("Member=StatusUpdate") && text.contains("Member=PropertiesChanged") && text.contains("Member=Completed")
        })
        #expect(monitor.text.contains("UPDATE_STATUS_UPDATED_NEED_REBOOT"))

        let status = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager", "GetStatus"])
        #expect(status.stdout.contains("\"UPDATE_STATUS_UPDATED_NEED_REBOOT\" \"2.0.0\" \(12 << 20 + 99)"), "\(status.stdout)")
        let pending = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "RebootPending"])
        #expect(pending.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "b true")

        // ResetStatus acknowledges, as update_engine's does: idle again, slot still on trial.
        let reset = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager", "ResetStatus"])
        #expect(reset.status == 0, "\(reset.stderr)")
        let after = try harness.busctl(["call", "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager", "GetStatus"])
        #expect(after.stdout.contains("\"UPDATE_STATUS_IDLE\" \"0.0.0\""), "\(after.stdout)")
        #expect(try harness.disk.sgdiskAttributes(4) == BootAttributes(priority: 2, tries: 1, successful: false).rawValue)
        harness.stop()
    }

    @Test("a 14 MiB install: a DOWNLOADING StatusUpdate per 1% of progress, as update_engine sends, seen by busctl monitor too")
    func downloadingSignalPerPercent() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let image = try harness.fixture.randomImage("image.raw", size: 14 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let listener = try LocksmithListener(address: harness.bus.address)
        let monitor = try BusctlMonitor(address: harness.bus.address, fixture: harness.fixture, match: LocksmithListener.rule)
        defer { monitor.stop() }

        let update = try harness.updatectl(["update", bundle])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(try listener.wait(for: "UPDATE_STATUS_UPDATED_NEED_REBOOT"))
        let progress = listener.downloadProgress
        #expect(Set(progress).count >= 90, "\(progress.count) DOWNLOADING signals: \(progress)")
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0 < $1 }, "strictly increasing: \(progress)")
        #expect(progress.last == 1)
        // The same count as busctl sees it, on the wire.
        #expect(DaemonHarness.eventually(timeout: 5) {
            monitor.text.components(separatedBy: "\"UPDATE_STATUS_DOWNLOADING\"").count - 1 == progress.count
        }, "busctl monitor saw a different number of DOWNLOADING signals than \(progress.count)")
        harness.stop()
    }

    @Test("install through tandemd on every kind of disk; Slots names the partition devices", arguments: DiskKind.allCases)
    func installOn(kind: DiskKind) throws {
        let harness = try DaemonHarness(kind: kind)
        try harness.start()
        let image = try harness.fixture.randomImage("image.raw", size: 5 << 20 + 4095)
        let update = try harness.updatectl(["update", try harness.fixture.bundle("v2.tandem", image: image)])
        #expect(update.status == 0, "\(update.stderr)")
        try harness.install.expectInstalled(image)
        let slots = try #require(try harness.updatectlJSON(["status", "--json"])["slots"] as? [[String: Any]])
        let devices = slots.compactMap { $0["device"] as? String }
        if let loop = harness.disk.loopDevice {
            #expect(devices == [loop + "p3", loop + "p4"], "\(devices)")
        } else {
            #expect(devices == ["\(harness.disk.path) partition 3", "\(harness.disk.path) partition 4"], "\(devices)")
        }
        #expect(slots.last?["version"] as? String == "2.0.0")
        harness.stop()
    }

    @Test("options are strict: an unknown key or a wrongly typed value is InvalidArgs, naming the options")
    func strictOptions() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let client = try BusConnection.connect(address: harness.bus.address)
        func failure(_ member: String, _ arguments: [BusValue]) -> BusError? {
            do {
                _ = try client.call(destination: "org.tandem.Updater1", path: "/org/tandem/Updater1",
                                    interface: "org.tandem.Updater1", member: member, arguments: arguments)
                return nil
            } catch {
                return error
            }
        }
        let unknownReboot = failure("Reboot", [.dictionary([("now", .bool(true))])])
        #expect(unknownReboot?.name == BusError.invalidArgs)
        #expect(unknownReboot?.message == "unknown Reboot option 'now'; the options are: dry-run, force")
        let typedReboot = failure("Reboot", [.dictionary([("force", .string("yes"))])])
        #expect(typedReboot?.message == "the Reboot option force must be a boolean")
        let typedInstall = failure("Install", [.string("/nonexistent"), .dictionary([("verify-readback", .int32(1))])])
        #expect(typedInstall?.message == "the Install option verify-readback must be a boolean")
        let unknownInstall = failure("Install", [.string("/nonexistent"), .dictionary([("slot", .string("C"))])])
        #expect(unknownInstall?.message == "the slot option must be a string: auto, A or B")
        // A key given twice is refused, not settled silently by the last one.
        let repeated = failure("Install", [.string("/nonexistent"), .dictionary([("slot", .string("A")), ("slot", .string("B"))])])
        #expect(repeated?.name == BusError.invalidArgs)
        #expect(repeated?.message == "the Install option 'slot' is given more than once; give each option once")
        let repeatedReboot = failure("Reboot", [.dictionary([("force", .bool(false)), ("force", .bool(true))])])
        #expect(repeatedReboot?.message == "the Reboot option 'force' is given more than once; give each option once")
        // A URL without '//' is called that, not a relative path, and nothing is read.
        let malformed = failure("Install", [.string("file:/etc/passwd"), .dictionary([])])
        #expect(malformed?.name == BusError.invalidArgs)
        #expect(malformed?.message == "the source file:/etc/passwd is not a URL tandemd reads: a URL needs '//' after 'file:' "
            + "(file:///path/to/bundle, http://host/path), or give the absolute path itself")
        let relative = failure("Install", [.string("bundles/v2.tandem"), .dictionary([])])
        #expect(relative?.message.contains("is a relative path") == true)
        let update = try harness.updatectl(["update", "file:/etc/passwd"])
        #expect(update.status != 0 && update.stderr.contains("is not a URL tandemd reads") && !update.stderr.contains("relative"),
                "\(update.stderr)")
        harness.stop()
    }

    @Test("a failing install emits REPORTING_ERROR_EVENT, then IDLE, and Completed with code 1")
    func failureSignals() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let image = try harness.fixture.randomImage("image.raw", size: 4 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        // One flipped image byte: its chunk fails its digest, after the target was invalidated.
        let imageOffset = try BundleFile.readPreamble(path: bundle).header.imageOffset
        try Shell.run(["sh", "-c", "printf '\\377' | dd of='\(bundle)' bs=1 seek=\(imageOffset + 1000) conv=notrunc status=none"])
        let listener = try LocksmithListener(address: harness.bus.address)
        let update = try harness.updatectl(["update", bundle])
        #expect(update.status == 1, "\(update.stdout)\(update.stderr)")
        #expect(update.stderr.contains("signed chunk table"), "\(update.stderr)")
        #expect(try listener.wait(for: "UPDATE_STATUS_REPORTING_ERROR_EVENT", timeout: 10))
        try listener.drain(for: 0.5)
        #expect(listener.operations.last == "UPDATE_STATUS_IDLE", "\(listener.operations)")
        #expect(try harness.disk.sgdiskAttributes(4) == 0)
        let last = try harness.busctl(["get-property", "org.tandem.Updater1", "/org/tandem/Updater1", "org.tandem.Updater1", "LastResult"])
        #expect(last.stdout.contains(" 1 \""), "\(last.stdout)")
        harness.stop()
    }
}
