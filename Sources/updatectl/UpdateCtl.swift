import ArgumentParser

@main
struct UpdateCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "updatectl",
        abstract: "Control Tandem, the A/B partition image updater.",
        discussion: """
            status, check, update, activate, cancel, watch, mark-good, mark-bad, mark-active, rollback, unquarantine, reboot and lock talk to tandemd over the system bus (DBUS_SYSTEM_BUS_ADDRESS overrides where that is). Reading the status is open to everyone; changes need root or the admin group (AdminGroup= in /etc/tandem/tandem.conf, default wheel).

            The disk commands work offline on a disk or disk-image file, for image builders, provisioning and tests: they show and change the slots' GPT boot flags and install signed bundles. The image commands make signing keys and signed bundles.

            Exit status: 0 success, 1 failure, 2 no update available (or none pending, for reboot), 3 permission denied, 4 tandemd not reachable, 5 busy, 64 usage error.
            """,
        subcommands: [StatusCommand.self, CheckCommand.self, UpdateCommand.self, ActivateCommand.self, CancelCommand.self, WatchCommand.self,
                      MarkGoodCommand.self, MarkBadCommand.self, MarkActiveCommand.self, RollbackCommand.self, UnquarantineCommand.self, RebootCommand.self, LockCommand.self,
                      DiskCommand.self, ImageCommand.self]
    )
}
