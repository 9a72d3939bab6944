import ArgumentParser
import BusClient
#if canImport(Glibc)
import Glibc
#endif

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the slots, the update state, the last result and whether a reboot is pending.")

    @Flag(help: "Print JSON (schema tandem.status/1, docs/cli-json.md).")
    var json = false

    func run() throws {
        try withDaemon { client throws(ClientError) in
            let status = try client.status()
            if json {
                do { print(try StatusReport(status).encodeJSON()) } catch { throw .failed("\(error)") }
            } else {
                print(StatusReport.render(status))
            }
        }
    }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow tandemd's state live, one line per change, until interrupted.")

    func run() throws {
        try withDaemon { client throws(ClientError) in
            var last = ""
            var vanished = false
            _ = try client.follow(starting: { () throws(ClientError) in }) { _, event in
                switch event {
                case let .status(status):
                    let line = status.summary
                    if line != last { print(line); last = line }
                case let .completed(transaction, code, message):
                    print("transaction \(transaction) \(code?.name ?? "ended"): \(message)")
                case .vanished:
                    print("tandemd left the bus")
                    vanished = true
                    return false
                }
                fflush(nil)
                return true
            }
            if vanished { throw .notRunning("tandemd stopped: systemctl start tandemd") }
        }
    }
}
