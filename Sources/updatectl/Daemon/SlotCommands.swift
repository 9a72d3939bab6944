import ArgumentParser
import BusClient

struct MarkGoodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-good",
        abstract: "Mark the booted slot good: it has proven it boots, so its tries stop counting and it becomes the fallback.")

    @Argument(help: "The slot: booted (the default), other, A or B. Only the booted slot can be marked good.")
    var slot = "booted"

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.mark(.good, slot: slot).message) }
    }
}

struct MarkBadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-bad",
        abstract: "Mark a slot bad: it will not boot again until something new is installed into it.",
        discussion: "Refused for the booted slot when the other one cannot boot.")

    @Argument(help: "The slot: booted, other, A or B.")
    var slot: String

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.mark(.bad, slot: slot).message) }
    }
}

struct MarkActiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-active",
        abstract: "Make a slot the next boot (a slot that never booted boots on trial).",
        discussion: "Refused for a slot that holds no verified system.")

    @Argument(help: "The slot: booted, other, A or B.")
    var slot: String

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.mark(.active, slot: slot).message) }
    }
}

struct UnquarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unquarantine",
        abstract: "Let updates install VERSION again, although it once failed to boot.")

    @Argument(help: "The quarantined version (updatectl status lists them).")
    var version: String

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.unquarantine(version)) }
    }
}

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Make the other slot the next boot, when it holds a system that booted successfully before.",
        discussion: "Refused, with the reason, when the other slot was never installed, was interrupted, is marked bad or holds an update that has not booted yet.")

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.rollback().message) }
    }
}

struct RebootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reboot",
        abstract: "Reboot into the pending update: inside the reboot window, holding the fleet's reboot lock, through systemd-logind.",
        discussion: """
            Does nothing (exit status 2) when no update waits for a reboot, unless --force. With [Reboot] \
            Strategy=etcd-lock or fleetlock the lock is taken first (exit status 1 when the fleet is full); --force also \
            reboots outside the reboot window, but never without the lock.
            """)

    @Flag(help: "Reboot even when no update is pending.")
    var force = false

    @Flag(help: "Say what would happen, and do nothing.")
    var dryRun = false

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.reboot(force: force, dryRun: dryRun)) }
    }
}

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "The fleet's reboot lock ([Reboot] Strategy=etcd-lock or fleetlock).",
        subcommands: [LockStatusCommand.self, LockReleaseCommand.self])
}

struct LockStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the free slots, the limit and the holders of locksmith's etcd semaphore, as locksmithctl status does.")

    func run() throws {
        try withDaemon { client throws(ClientError) in
            guard let status = try client.lockStatus() else {
                print("no lock to show: the reboot strategy takes none, or it is FleetLock, whose servers cannot be asked")
                return
            }
            print("Available: \(status.available)")
            print("Max: \(status.max)")
            if !status.holders.isEmpty {
                print("\nMACHINE ID")
                status.holders.forEach { print($0) }
            }
        }
    }
}

struct LockReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Give back a slot of the reboot lock: this machine's, or (etcd) the one a dead machine holds.",
        discussion: """
            A machine that dies while holding a slot keeps it, so that a broken update stops with it; once it is dealt \
            with, release its slot by its machine id (as shown by updatectl lock status). Needs root or the admin group.
            """)

    @Argument(help: "The machine id whose slot to release. Default: this machine's.")
    var machineID: String?

    func run() throws {
        try withDaemon { client throws(ClientError) in print(try client.lockRelease(holder: machineID)) }
    }
}
