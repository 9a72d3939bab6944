import BusCore

/// The names of Tandem's D-Bus API (docs/dbus.md). They are an interface: never rename one.
public enum UpdaterAPI {
    public static let busName = "org.tandem.Updater1"
    public static let objectPath = "/org/tandem/Updater1"
    public static let interface = "org.tandem.Updater1"

    public static let description = BusInterfaceDescription(
        name: interface,
        methods: [
            .init("Check", outputs: [.init("available", "b"), .init("version", "s"), .init("size", "t"), .init("message", "s")]),
            .init("Install", inputs: [.init("source", "s"), .init("options", "a{sv}")], outputs: [.init("transaction", "s")]),
            .init("Cancel", outputs: [.init("transaction", "s")]),
            .init("Mark", inputs: [.init("state", "s"), .init("slot", "s")], outputs: [.init("next_boot", "s"), .init("message", "s")]),
            .init("Rollback", outputs: [.init("next_boot", "s"), .init("message", "s")]),
            .init("Reboot", inputs: [.init("options", "a{sv}")], outputs: [.init("message", "s")]),
            .init("Unquarantine", inputs: [.init("version", "s")], outputs: [.init("message", "s")]),
            .init("Activate", outputs: [.init("transaction", "s")]),
            .init("LockStatus", outputs: [.init("known", "b"), .init("available", "i"), .init("max", "i"), .init("holders", "as")]),
            .init("LockRelease", inputs: [.init("holder", "s")], outputs: [.init("message", "s")]),
        ],
        properties: [
            .init("Operation", "s"),
            .init("Transaction", "s"),
            .init("Progress", "(sttdd)"),
            .init("NewVersion", "s"),
            .init("NewSize", "t"),
            .init("BootedSlot", "s"),
            .init("DiskProblem", "s"),
            .init("StateProblem", "s"),
            .init("BootBackend", "s"),
            .init("BootedVersion", "s"),
            .init("NextBootSlot", "s"),
            .init("Slots", "a(sssuyybs)"),
            .init("LastResult", "(sissxs)"),
            .init("RebootPending", "b"),
            .init("LastCheckTime", "x"),
            .init("Boot", "(ssssssxs)"),
            .init("Quarantined", "a(ssssx)"),
            .init("Strategy", "s"),
            .init("UpdateChannel", "(sss)"),
            .init("LastCheck", "(xsss)"),
            .init("NextCheckTime", "x"),
            .init("Staged", "(sstx)"),
            .init("Coordination", "(sssbs)"),
            .init("StateRecovery", "(ssxs)"),
        ],
        signals: [
            .init("Completed", [.init("transaction", "s"), .init("code", "i"), .init("message", "s")]),
        ])
}

/// update_engine's API, kept exactly (flatcar-update-engine.md §1), so that locksmithd and the
/// Flatcar Linux Update Operator work unchanged.
public enum CompatAPI {
    public static let busName = "com.coreos.update1"
    public static let objectPath = "/com/coreos/update1"
    public static let interface = "com.coreos.update1.Manager"

    static let status: [BusInterfaceDescription.Argument] = [
        .init("last_checked_time", "x"), .init("progress", "d"), .init("current_operation", "s"),
        .init("new_version", "s"), .init("new_size", "x"),
    ]

    public static let description = BusInterfaceDescription(
        name: interface,
        methods: [
            .init("AttemptUpdate"),
            .init("ResetStatus"),
            .init("GetStatus", outputs: status),
        ],
        signals: [.init("StatusUpdate", status)])
}
