import ArgumentParser
import BusClient
import UpdateModel
import FoundationEssentials
import Streaming
import SystemPackage

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Ask the update server (or the configured bundle source) now whether there is a newer version.",
        discussion: """
            Only looks: nothing is downloaded (updatectl update does that). While an update waits for a reboot, or the \
            running version is on trial, the server is only pinged. Exit status 0 when an update is available, 2 when \
            there is none.
            """)

    func run() throws {
        try withDaemon { client throws(ClientError) in
            let result = try client.check()
            guard result.available else { throw .noUpdate(result.message) }
            print(result.message)
        }
    }
}

struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Install an update through tandemd: from SOURCE, or whatever the update server (or the configured source) offers that is newer.",
        discussion: """
            Waits until the install ends, with a live progress bar on a terminal and a line per 10% otherwise. Ctrl-C stops \
            waiting, not the install (updatectl cancel does that).

            Exit status: 0 installed, 2 no update available, 1 failed or cancelled, 3 permission denied, 4 tandemd not \
            running, 5 busy.
            """)

    @Argument(help: "A bundle path or http(s):// URL. Default: the update server (Server= in tandem.conf or SERVER= in update.conf), or Source=.")
    var source: String?

    @Flag(help: "Start the install and return at once with its transaction id.")
    var noWait = false

    @Option(help: "Slot to write: auto (the one not booted), A or B.")
    var slot: SlotChoice?

    @Flag(name: .customLong("no-verify-readback"), help: "Skip reading the slot back and hashing it again.")
    var noVerifyReadback = false

    @Flag(help: "Install even a quarantined version (one that failed to boot), and even while the running slot is on trial, overwriting the only known-good slot.")
    var force = false

    func run() throws {
        try withDaemon { client throws(ClientError) in
            let location = source.map(absoluteLocation)
            if force { printError("warning: --force overrides the quarantine and the trial guard") }
            let start = { () throws(ClientError) -> String in
                try client.install(source: location, slot: slot, readback: noVerifyReadback ? .skip : .configured, force: force)
            }
            if noWait {
                print(try start())
                return
            }
            try followTransaction(client, starting: start)
        }
    }
}

/// Starts a transaction and waits for its end, showing its progress: a live bar on a terminal,
/// a line per 10% otherwise. Ctrl-C stops waiting, not the transaction.
func followTransaction(_ client: UpdaterClient, starting start: () throws(ClientError) -> String) throws(ClientError) {
    let printer = ProgressPrinter()
    nonisolated(unsafe) var outcome: (code: ResultCode?, message: String)?
    let transaction = try client.follow(starting: start) { transaction, event in
        switch event {
        case let .status(status):
            if status.transaction == transaction, let progress = InstallProgress(status.progress) {
                printer.show(progress)
            }
            return true
        case let .completed(finished, code, message):
            guard finished == transaction else { return true }
            outcome = (code, message)
            return false
        case .vanished:
            outcome = (nil, "tandemd stopped during transaction \(transaction); it resumes an install when it starts again "
                + "(updatectl status shows what happened)")
            return false
        }
    }
    printer.finish()
    guard let outcome else { return }
    switch outcome.code {
    case .success?:
        print(outcome.message)
    case .noUpdate?:
        throw .noUpdate(outcome.message)
    case nil:
        throw .notRunning(outcome.message)
    default:
        throw .failed("transaction \(transaction): \(outcome.message)")
    }
}

struct ActivateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Make the update that Strategy=download-only staged bootable: it boots on trial at the next reboot.",
        discussion: """
            tandemd reads the staged slot back and checks it against the verified image before it flips the boot flags, \
            so a slot changed since it was staged is never activated.

            Exit status: 0 activated, 1 failed (nothing staged, or the slot changed), 3 permission denied, 4 tandemd not \
            running, 5 busy.
            """)

    func run() throws {
        try withDaemon { client throws(ClientError) in
            try followTransaction(client, starting: { () throws(ClientError) -> String in try client.activate() })
        }
    }
}

/// tandemd has its own working directory: a relative path is made absolute here, where the
/// user meant it. A location that starts like a URL is passed on for tandemd to judge.
func absoluteLocation(_ location: String) -> String {
    guard !location.contains("://"), !location.hasPrefix("/"), urlScheme(of: location) == nil else { return location }
    return FilePath(FileManager.default.currentDirectoryPath).appending(location).lexicallyNormalized().string
}

extension InstallProgress {
    /// The daemon's progress report as the printer takes it; nil outside a streaming phase.
    init?(_ report: ProgressReport) {
        guard let phase = report.phase else { return nil }
        self.init(phase: phase, bytesDone: report.bytesDone, bytesTotal: report.bytesTotal,
                  bytesPerSecond: report.bytesPerSecond, secondsRemaining: report.secondsRemaining)
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Stop the running install. The target slot stays unbootable; the booted slot is never touched.")

    func run() throws {
        try withDaemon { client throws(ClientError) in
            print("cancelling transaction \(try client.cancel())")
        }
    }
}
