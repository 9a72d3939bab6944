import ArgumentParser
import BusClient
#if canImport(Glibc)
import Glibc
#endif

/// updatectl's exit statuses, one per thing a script may want to react to (docs/updatectl.md).
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let noUpdate: Int32 = 2
    static let permissionDenied: Int32 = 3
    static let notRunning: Int32 = 4
    static let busy: Int32 = 5
    // 64: a usage error (ArgumentParser's EX_USAGE).

    static func code(for error: ClientError) -> Int32 {
        switch error {
        case .notRunning: notRunning
        case .permissionDenied: permissionDenied
        case .busy: busy
        case .noUpdate: noUpdate
        case .failed: failure
        }
    }
}

/// Runs `body` against tandemd; a failure is printed as one line on stderr and leaves `run()` as
/// its exit status, so that ArgumentParser ends the process (no `exit()` in the middle of a command).
func withDaemon(_ body: (UpdaterClient) throws(ClientError) -> Void) throws(ExitCode) {
    do {
        try body(try UpdaterClient())
    } catch {
        printError(error.description)
        throw ExitCode(ExitStatus.code(for: error))
    }
}

func printError(_ message: String) {
    var line = "updatectl: \(message)\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
