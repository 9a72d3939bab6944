import BusCore
import UpdateModel

/// What a client hears while following tandemd.
public enum FollowEvent: Sendable {
    case status(UpdaterStatus)
    case completed(transaction: String, code: ResultCode?, message: String)
    /// tandemd left the bus (stopped or crashed).
    case vanished
}

/// `org.tandem.Updater1` from the caller's side, on the system bus (or wherever
/// DBUS_SYSTEM_BUS_ADDRESS points).
public final class UpdaterClient {
    private let connection: BusConnection

    public init() throws(ClientError) {
        do {
            connection = try BusConnection.system(description: "updatectl")
        } catch {
            throw .notRunning("cannot reach the system bus (\(error.message)); is dbus running? (systemctl status dbus)")
        }
    }

    public func status() throws(ClientError) -> UpdaterStatus {
        try decode(try properties())
    }

    public func check() throws(ClientError) -> CheckResult {
        let reply = try call("Check", timeout: 300)
        guard reply.count == 4, let available = reply[0].boolValue, let version = reply[1].stringValue,
              let size = reply[2].uint64Value, let message = reply[3].stringValue else { throw mismatch("Check") }
        return CheckResult(available: available, version: version, size: size, message: message)
    }

    public func install(source: String?, slot: SlotChoice?, readback: ReadbackVerification = .configured,
                        force: Bool = false) throws(ClientError) -> String {
        var options: [(String, BusValue)] = force ? [("force", .bool(true))] : []
        if let slot { options.append(("slot", .string(slot.rawValue))) }
        switch readback {
        case .configured: break
        case .verify: options.append(("verify-readback", .bool(true)))
        case .skip: options.append(("verify-readback", .bool(false)))
        }
        let reply = try call("Install", [.string(source ?? ""), .dictionary(options)])
        guard let transaction = reply.first?.stringValue else { throw mismatch("Install") }
        return transaction
    }

    public func activate() throws(ClientError) -> String {
        guard let transaction = try call("Activate").first?.stringValue else { throw mismatch("Activate") }
        return transaction
    }

    public func cancel() throws(ClientError) -> String {
        guard let transaction = try call("Cancel").first?.stringValue else { throw mismatch("Cancel") }
        return transaction
    }

    /// Marking good may wait out the grace period (BlessGraceSec=) before tandemd answers.
    public func mark(_ state: MarkState, slot: String) throws(ClientError) -> (nextBoot: String, message: String) {
        try pair(try call("Mark", [.string(state.rawValue), .string(slot)], timeout: state == .good ? 3600 : 60), "Mark")
    }

    public func unquarantine(_ version: String) throws(ClientError) -> String {
        guard let message = try call("Unquarantine", [.string(version)]).first?.stringValue else { throw mismatch("Unquarantine") }
        return message
    }

    public func rollback() throws(ClientError) -> (nextBoot: String, message: String) {
        try pair(try call("Rollback"), "Rollback")
    }

    /// Who holds the fleet's reboot lock; nil when the strategy has none or the server cannot say.
    public func lockStatus() throws(ClientError) -> (available: Int, max: Int, holders: [String])? {
        let reply = try call("LockStatus")
        guard reply.count == 4, let known = reply[0].boolValue, let available = reply[1].int32Value, let max = reply[2].int32Value,
              let holders = reply[3].arrayValue?.compactMap(\.stringValue) else { throw mismatch("LockStatus") }
        return known ? (Int(available), Int(max), holders) : nil
    }

    public func lockRelease(holder: String?) throws(ClientError) -> String {
        guard let message = try call("LockRelease", [.string(holder ?? "")]).first?.stringValue else { throw mismatch("LockRelease") }
        return message
    }

    public func reboot(force: Bool, dryRun: Bool) throws(ClientError) -> String {
        let reply = try call("Reboot", [.dictionary([("force", .bool(force)), ("dry-run", .bool(dryRun))])])
        guard let message = reply.first?.stringValue else { throw mismatch("Reboot") }
        return message
    }

    /// Subscribes to property changes, `Completed` and tandemd leaving the bus, then calls
    /// `body` to start whatever is to be followed, then reports the current status and every
    /// event to `handler` until it returns false.
    public func follow<T>(starting body: () throws(ClientError) -> T,
                          handler: (T, FollowEvent) -> Bool) throws(ClientError) -> T {
        nonisolated(unsafe) var pending: [FollowEvent] = []
        nonisolated(unsafe) var known: [String: BusValue] = [:]
        let subscriptions: [BusMatch]
        do {
            subscriptions = [
                try connection.addMatch(
                    "type='signal',sender='\(UpdaterAPI.busName)',path='\(UpdaterAPI.objectPath)',"
                        + "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'") { signal in
                    guard let changed = signal.arguments.dropFirst().first?.dictionaryValue else { return }
                    known.merge(changed) { $1 }
                    if let status = try? StatusCoding.status(from: known) { pending.append(.status(status)) }
                },
                try connection.addMatch(
                    "type='signal',sender='\(UpdaterAPI.busName)',path='\(UpdaterAPI.objectPath)',"
                        + "interface='\(UpdaterAPI.interface)',member='Completed'") { signal in
                    let arguments = signal.arguments
                    guard arguments.count == 3, let transaction = arguments[0].stringValue, let code = arguments[1].int32Value,
                          let message = arguments[2].stringValue else { return }
                    pending.append(.completed(transaction: transaction, code: ResultCode(rawValue: code), message: message))
                },
                try connection.addMatch(
                    "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                        + "arg0='\(UpdaterAPI.busName)'") { signal in
                    if signal.arguments.count == 3, signal.arguments[2].stringValue == "" { pending.append(.vanished) }
                },
            ]
        } catch {
            throw ClientError(error)
        }
        defer { subscriptions.forEach { $0.cancel() } }
        let started = try body()
        known = try properties()
        guard handler(started, .status(try decode(known))) else { return started }
        while true {
            do {
                try connection.processEvents(timeout: 1)
            } catch {
                throw ClientError(error)
            }
            let events = pending
            pending.removeAll()
            for event in events where !handler(started, event) { return started }
        }
    }

    private func properties() throws(ClientError) -> [String: BusValue] {
        do {
            return try connection.getAllProperties(destination: UpdaterAPI.busName, path: UpdaterAPI.objectPath,
                                                   interface: UpdaterAPI.interface)
        } catch {
            throw ClientError(error)
        }
    }

    private func decode(_ properties: [String: BusValue]) throws(ClientError) -> UpdaterStatus {
        do {
            return try StatusCoding.status(from: properties)
        } catch {
            throw .failed(error.description)
        }
    }

    private func call(_ member: String, _ arguments: [BusValue] = [], timeout: Double = 60) throws(ClientError) -> [BusValue] {
        do {
            return try connection.call(destination: UpdaterAPI.busName, path: UpdaterAPI.objectPath,
                                       interface: UpdaterAPI.interface, member: member, arguments: arguments, timeout: timeout)
        } catch {
            throw ClientError(error)
        }
    }

    private func pair(_ reply: [BusValue], _ member: String) throws(ClientError) -> (nextBoot: String, message: String) {
        guard reply.count == 2, let next = reply[0].stringValue, let message = reply[1].stringValue else { throw mismatch(member) }
        return (next, message)
    }

    private func mismatch(_ member: String) -> ClientError {
        .failed("tandemd's reply to \(member) has an unexpected shape; updatectl and tandemd are probably different versions")
    }
}
