import BusClient
import BusCore
import Engine
import Logging
import Platform

/// `com.coreos.update1.Manager` at `/com/coreos/update1`, as update_engine has it: three
/// methods and `StatusUpdate`, sent on every change of state and, while downloading, when
/// progress moved by 1% or 10 s passed.
///
/// `@unchecked Sendable` because it is confined to the bus thread, as sd-bus requires of the
/// connection (an `sd_bus` handle, not thread-safe) it emits on: sd-bus calls its handlers
/// there, and other threads reach it only through `EventLoop.post`. What it last sent is
/// touched on that thread only.
public final class CompatService: BusObjectHandler, @unchecked Sendable {
    private let updater: Updater
    private let connection: BusConnection
    private let authorizer: Authorizer
    private let log: Logger
    private var sent: CompatStatus?
    private var sentAt = 0.0
    private var acknowledged = false

    static let heartbeat = 10.0

    /// The whole percent a download fraction is in: a StatusUpdate goes out each time it changes
    /// (comparing differences of fractions with 0.01 skipped steps to rounding).
    static func percent(_ fraction: Double) -> Int { Int((fraction * 100).rounded(.down)) }

    public init(updater: Updater, connection: BusConnection, logger: Logger) {
        self.updater = updater
        self.connection = connection
        authorizer = Authorizer(policy: updater.policy)
        log = logger
    }

    public func export() throws(BusError) {
        try connection.export(self, path: CompatAPI.objectPath, interfaces: [CompatAPI.description])
    }

    var current: CompatStatus { compat(updater.status()) }

    private func compat(_ status: UpdaterStatus) -> CompatStatus {
        // A new transaction ends the acknowledgement: what it produces is news again.
        if status.transaction != nil { acknowledged = false }
        return CompatStatus(status, acknowledged: acknowledged)
    }

    /// The one StatusUpdate update_engine sends at start-up, so that a client that missed
    /// the last one (locksmithd restarted with us) learns the state.
    public func announce() {
        send(current)
    }

    /// `status` is the state right after the change, so that every transition is announced
    /// even when the next one follows before the bus thread gets here.
    public func statusChanged(_ status: UpdaterStatus) {
        let now = compat(status)
        guard let sent else { return send(now) }
        if now.currentOperation != sent.currentOperation || now.newVersion != sent.newVersion || now.newSize != sent.newSize {
            return send(now)
        }
        if now.currentOperation == CompatStatus.downloading,
           CompatService.percent(now.progress) != CompatService.percent(sent.progress)
            || MonotonicClock.now() - sentAt >= CompatService.heartbeat {
            send(now)
        }
    }

    /// A failed transaction passes through REPORTING_ERROR_EVENT, as update_engine's does on
    /// its way back to idle.
    public func completed(_ result: ResultRecord) {
        if result.code == .failed || result.code == .interrupted {
            var reporting = sent ?? current
            reporting.currentOperation = CompatStatus.reportingErrorEvent
            reporting.progress = 0
            send(reporting)
        }
        statusChanged(updater.status())
    }

    private func send(_ status: CompatStatus) {
        sent = status
        sentAt = MonotonicClock.now()
        do {
            try connection.emitSignal(path: CompatAPI.objectPath, interface: CompatAPI.interface, member: "StatusUpdate",
                                      arguments: status.arguments)
        } catch {
            log.error("cannot emit StatusUpdate: \(error)")
        }
    }

    public func property(_ name: String, interface: String) -> BusValue? { nil }

    public func handle(_ call: BusMethodCall) {
        switch call.member {
        case "GetStatus":
            call.reply(current.arguments)
        case "AttemptUpdate":
            guard authorizer.authorize(call, action: "AttemptUpdate") != nil else { return }
            // As update_engine: asynchronous, and a no-op unless idle.
            let state = current.currentOperation
            guard state == CompatStatus.idle else {
                log.info("skipping update check because current status is \(state)")
                return call.reply()
            }
            do {
                _ = try updater.install(InstallRequest(source: nil))
            } catch {
                log.warning("AttemptUpdate: \(error)")
            }
            call.reply()
        case "ResetStatus":
            guard authorizer.authorize(call, action: "ResetStatus") != nil else { return }
            let state = current.currentOperation
            switch state {
            case CompatStatus.idle:
                call.reply()
            case CompatStatus.updatedNeedReboot:
                // Like update_engine: the status goes back to idle without a StatusUpdate, and
                // the slot stays on trial (undo that with updatectl mark active booted).
                acknowledged = true
                call.reply()
            default:
                call.fail(BusError(name: BusError.failed, message: "Reset not allowed in this state (\(state))."))
            }
        default:
            call.fail(BusError(name: BusError.unknownMethod, message: "\(CompatAPI.interface) has no method \(call.member)"))
        }
    }
}
