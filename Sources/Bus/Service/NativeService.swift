import BusClient
import BusCore
import Engine
import Logging
import Platform
import Streaming

/// `org.tandem.Updater1` at `/org/tandem/Updater1`: properties with throttled
/// `PropertiesChanged`, the methods, and `Completed`.
///
/// `@unchecked Sendable` because it is confined to the bus thread, as sd-bus requires of the
/// connection (an `sd_bus` handle, not thread-safe) it emits on: sd-bus calls its handlers
/// there, and other threads reach it only through `EventLoop.post`. Its announcement state is
/// touched on that thread only.
public final class NativeService: BusObjectHandler, @unchecked Sendable {
    private let updater: Updater
    private let connection: BusConnection
    private let loop: EventLoop
    private let authorizer: Authorizer
    private let log: Logger
    /// What subscribers were last told, to send only what changed.
    private var announced: [String: BusValue] = [:]
    private var lastAnnouncement = 0.0
    private var announcementScheduled = false
    /// A few per second: enough for a live progress bar, cheap for every listener.
    static let minimumInterval = 0.25

    public init(updater: Updater, connection: BusConnection, loop: EventLoop, logger: Logger) {
        self.updater = updater
        self.connection = connection
        self.loop = loop
        authorizer = Authorizer(policy: updater.policy)
        log = logger
    }

    public func export() throws(BusError) {
        announced = StatusCoding.properties(updater.status())
        try connection.export(self, path: UpdaterAPI.objectPath, interfaces: [UpdaterAPI.description])
    }

    /// Something changed: announce it now, or as soon as the throttle allows.
    public func statusChanged() {
        guard !announcementScheduled else { return }
        let wait = lastAnnouncement + NativeService.minimumInterval - MonotonicClock.now()
        guard wait > 0 else { return announceChanges() }
        announcementScheduled = true
        do {
            try loop.after(wait) { [weak self] in
                self?.announcementScheduled = false
                self?.announceChanges()
            }
        } catch {
            announcementScheduled = false
            announceChanges()
        }
    }

    /// Properties first, so that a client reacting to `Completed` reads the final state.
    public func completed(_ result: ResultRecord) {
        announceChanges()
        do {
            try connection.emitSignal(path: UpdaterAPI.objectPath, interface: UpdaterAPI.interface, member: "Completed",
                                      arguments: [.string(result.transaction), .int32(result.code.rawValue), .string(result.message)])
        } catch {
            log.error("cannot emit Completed: \(error)")
        }
    }

    private func announceChanges() {
        lastAnnouncement = MonotonicClock.now()
        let current = StatusCoding.properties(updater.status())
        let changed = current.filter { announced[$0.key] != $0.value }.sorted { $0.key < $1.key }
        guard !changed.isEmpty else { return }
        announced = current
        do {
            try connection.emitPropertiesChanged(path: UpdaterAPI.objectPath, interface: UpdaterAPI.interface,
                                                 changed: changed.map { ($0.key, $0.value) })
        } catch {
            log.error("cannot emit PropertiesChanged: \(error)")
        }
    }

    public func property(_ name: String, interface: String) -> BusValue? {
        // The flags can be changed behind tandemd's back (cgpt, updatectl disk), and the disk
        // repaired or broken: re-read them when someone looks at the slots or the disk.
        if ["BootedSlot", "DiskProblem", "Slots", "NextBootSlot", "RebootPending"].contains(name) { updater.refreshSlots() }
        return StatusCoding.properties(updater.status())[name]
    }

    public func handle(_ call: BusMethodCall) {
        do throws(UpdaterError) {
            switch call.member {
            case "Check":
                guard authorizer.authorize(call, action: "checking for updates") != nil else { return }
                try updater.check { [loop] result in
                    loop.post {
                        switch result {
                        case let .success(found):
                            call.reply([.bool(found.available), .string(found.version), .uint64(found.size), .string(found.message)])
                        case let .failure(error):
                            call.fail(error.busError)
                        }
                    }
                }
            case "Install":
                guard authorizer.authorize(call, action: "installing an update") != nil else { return }
                let request = try installRequest(call.arguments)
                call.reply([.string(try updater.install(request))])
            case "Cancel":
                guard let uid = authorizer.authorize(call, action: "cancelling an update") else { return }
                call.reply([.string(try updater.cancel(by: uid))])
            case "Mark":
                guard authorizer.authorize(call, action: "marking a slot") != nil else { return }
                guard let text = call.arguments[0].stringValue, let state = MarkState(rawValue: text),
                      let slot = call.arguments[1].stringValue else {
                    throw .invalidArgument("the state must be one of: " + MarkState.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let delay = state == .good ? updater.blessDelay(for: slot) : 0
                guard delay > 0 else {
                    let (next, message) = try updater.mark(state, slot: slot)
                    return call.reply([.string(next.rawValue), .string(message)])
                }
                // The grace period: the caller (tandem-bless-boot.service) waits for the answer.
                log.notice("blessing the trial boot in \(Int(delay.rounded())) s (BlessGraceSec=)")
                do {
                    try loop.after(delay) { [updater] in
                        do throws(UpdaterError) {
                            let (next, message) = try updater.mark(state, slot: slot)
                            call.reply([.string(next.rawValue), .string(message)])
                        } catch {
                            call.fail(error.busError)
                        }
                    }
                } catch {
                    throw .graceTimer(reason: "\(error)")
                }
            case "Unquarantine":
                guard authorizer.authorize(call, action: "taking a version out of quarantine") != nil else { return }
                call.reply([.string(try updater.unquarantine(call.arguments[0].stringValue ?? ""))])
            case "Activate":
                guard authorizer.authorize(call, action: "activating a staged update") != nil else { return }
                call.reply([.string(try updater.activate())])
            case "LockStatus":
                answerOffLoop(call) { [updater] () throws(UpdaterError) -> [BusValue] in
                    let status = try updater.coordinator.lockStatus()
                    return [.bool(status != nil), .int32(Int32(clamping: status?.available ?? 0)),
                            .int32(Int32(clamping: status?.max ?? 0)),
                            .array(elementSignature: "s", (status?.holders ?? []).map(BusValue.string))]
                }
            case "LockRelease":
                guard authorizer.authorize(call, action: "releasing the reboot lock") != nil else { return }
                let holder = call.arguments[0].stringValue ?? ""
                answerOffLoop(call) { [updater, log] () throws(UpdaterError) -> [BusValue] in
                    let message = try updater.coordinator.release(holder: holder.isEmpty ? nil : holder)
                    log.notice("\(message)")
                    return [.string(message)]
                }
            case "Rollback":
                guard authorizer.authorize(call, action: "rolling back") != nil else { return }
                let (next, message) = try updater.rollback()
                call.reply([.string(next.rawValue), .string(message)])
            case "Reboot":
                guard authorizer.authorize(call, action: "rebooting") != nil else { return }
                let options = try options(call.arguments[0], known: ["force", "dry-run"], method: "Reboot")
                let force = try flag(options, "force", method: "Reboot") ?? false
                let dryRun = try flag(options, "dry-run", method: "Reboot") ?? false
                let plan = try updater.rebootPlan(force: force)
                if dryRun { return call.reply([.string("would " + plan)]) }
                reboot(call, plan: plan, force: force)
            default:
                call.fail(BusError(name: BusError.unknownMethod, message: "\(UpdaterAPI.interface) has no method \(call.member)"))
            }
        } catch {
            call.fail(error.busError)
        }
    }

    /// An a{sv} of options, strictly: an unknown key is an error, not ignored, and so is a key
    /// given twice (which of the two would win is not the caller's to guess).
    private func options(_ argument: BusValue, known: Set<String>, method: String) throws(UpdaterError) -> [String: BusValue] {
        if case let .array(_, entries) = argument {
            var seen = Set<String>()
            for case let .dictEntry(.string(key), _) in entries where !seen.insert(key).inserted {
                throw .invalidArgument("the \(method) option '\(key)' is given more than once; give each option once")
            }
        }
        let options = argument.dictionaryValue ?? [:]
        if let unknown = options.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidArgument("unknown \(method) option '\(unknown)'; the options are: " + known.sorted().joined(separator: ", "))
        }
        return options
    }

    /// A boolean option; a value of another type is an error, not false.
    private func flag(_ options: [String: BusValue], _ key: String, method: String) throws(UpdaterError) -> Bool? {
        guard let value = options[key] else { return nil }
        guard let flag = value.boolValue else { throw .invalidArgument("the \(method) option \(key) must be a boolean") }
        return flag
    }

    private func installRequest(_ arguments: [BusValue]) throws(UpdaterError) -> InstallRequest {
        let source = arguments[0].stringValue ?? ""
        if !source.contains("://"), let scheme = urlScheme(of: source) {
            throw .invalidArgument("the source \(source) is not a URL tandemd reads: a URL needs '//' after '\(scheme):' "
                + "(file:///path/to/bundle, http://host/path), or give the absolute path itself")
        }
        if !source.isEmpty, !source.contains("://"), !source.hasPrefix("/") {
            throw .invalidArgument("the source \(source) is a relative path, but tandemd does not share the caller's working "
                + "directory; give an absolute path or a URL")
        }
        let options = try options(arguments[1], known: ["slot", "verify-readback", "force"], method: "Install")
        var slot = SlotChoice.auto
        if let value = options["slot"] {
            guard let text = value.stringValue,
                  let choice = SlotChoice(parsing: text) else {
                throw .invalidArgument("the slot option must be a string: auto, A or B")
            }
            slot = choice
        }
        return InstallRequest(source: source.isEmpty ? nil : source, slot: slot,
                              readback: try flag(options, "verify-readback", method: "Install").map { $0 ? .verify : .skip } ?? .configured,
                              force: try flag(options, "force", method: "Install") ?? false)
    }

    /// The reboot goes the coordinator's way (window, fleet lock, then logind).
    private func reboot(_ call: BusMethodCall, plan: String, force: Bool) {
        log.notice("reboot requested: \(plan)")
        answerOffLoop(call) { [updater, log] () throws(UpdaterError) -> [BusValue] in
            if let failure = updater.coordinator.rebootNow(force: force) {
                log.error("not rebooting: \(failure)")
                throw .refused(failure)
            }
            return [.string(plan)]
        }
    }

    /// Runs `work`, which may wait on the network (etcd, a FleetLock server, logind), on a
    /// thread of its own, and answers `call` from the loop with what it returns.
    private func answerOffLoop(_ call: BusMethodCall, _ work: @escaping @Sendable () throws(UpdaterError) -> [BusValue]) {
        JoinableThread { [loop] in
            let result: Result<[BusValue], UpdaterError>
            do throws(UpdaterError) {
                result = .success(try work())
            } catch {
                result = .failure(error)
            }
            loop.post {
                switch result {
                case let .success(values): call.reply(values)
                case let .failure(error): call.fail(error.busError)
                }
            }
        }.detach()
    }
}
