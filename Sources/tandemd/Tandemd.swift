import ArgumentParser
import BusCore
import BusService
import Engine
import Logging
import Service
#if canImport(Glibc)
import Glibc
#endif

@main
struct Tandemd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandemd",
        abstract: "The Tandem update daemon: installs signed images into the inactive /usr slot and reports over D-Bus.",
        discussion: """
            tandemd owns org.tandem.Updater1 and com.coreos.update1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS overrides \
            where that is). It is meant to run as the systemd service tandemd.service (Type=notify). The options override \
            the configuration file, so that tests and demos can run it against a disk-image file without root.

            Exit status: 0 after a clean stop (SIGTERM), 1 when it cannot start (the reason is logged).
            """)

    @Option(help: "The configuration file.")
    var config = Engine.Configuration.defaultPath

    @Option(help: "The disk (or disk-image file) holding both slots. Default: the disk the system booted from.")
    var disk: String?

    @Option(help: "The booted slot: A, B or a label. Default: detected from the kernel command line or /usr.")
    var bootedSlot: String?

    @Option(help: "Where the state (transaction, last result, checkpoints) is kept.")
    var stateDir: String?

    @Option(help: "A directory of trusted public keys; repeat for several. Replaces KeysDirectory=.")
    var keys: [String] = []

    @Option(help: "The least important messages to log: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Where to log: auto (the journal when stderr is systemd's journal stream, else stderr), journal or stderr.")
    var logTarget: LogTarget = .auto

    enum LogTarget: String, ExpressibleByArgument, CaseIterable {
        case auto, journal, stderr
    }

    func run() throws {
        let destination: LoggingSetup.Destination = switch logTarget {
        case .auto: LoggingSetup.detectedDestination()
        case .journal: .journal
        case .stderr: .standardError(timestamps: true)
        }
        LoggingSetup.bootstrap(identifier: "tandemd", level: logLevel, destination: destination)
        let log = Logger(label: "tandemd")
        do {
            let configuration = try loadConfiguration()
            for ignored in configuration.ignored {
                log.warning("\(ignored); ignored: a setting of a newer tandemd, or a misspelling")
            }
            let code = try Daemon(configuration: configuration, logger: log).run()
            throw ExitCode(code)
        } catch let error as ExitCode {
            throw error
        } catch {
            log.critical("cannot start: \(error)")
            _ = try? ServiceManager.status("failed: \(error)")
            throw ExitCode.failure
        }
    }

    private func loadConfiguration() throws -> Engine.Configuration {
        var configuration = try Engine.Configuration.load(path: config, required: config != Engine.Configuration.defaultPath)
        if let disk { configuration.disk = disk }
        if let bootedSlot { configuration.bootedSlot = bootedSlot }
        if let stateDir {
            guard stateDir.hasPrefix("/") else { throw ValidationError("--state-dir must be an absolute path, not \(stateDir)") }
            configuration.stateDirectory = stateDir
        }
        if !keys.isEmpty { configuration.keyDirectories = keys }
        return configuration
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
