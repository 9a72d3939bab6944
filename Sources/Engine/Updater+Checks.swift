import FoundationEssentials
import Logging
import Omaha
import Streaming
import Verification

/// Who asked for a check: someone (`updatectl check`, `update`, `AttemptUpdate`), or the schedule.
public enum CheckTrigger: Sendable {
    case onDemand
    case scheduled

    var installSource: OmahaRequest.InstallSource {
        self == .onDemand ? .onDemand : .scheduler
    }
}

/// What a check found, whichever the channel, and what the schedule needs to know of it.
struct CheckFinding {
    var result: CheckResult
    var record: CheckRecord.Result
    /// Where to install from, when there is something to install.
    var installSource: String?
    var offer: UpdateOffer?
    var outcome: CheckOutcome
    var pollInterval: Int?
}

/// A check that failed, with what the schedule makes of the failure.
struct CheckFailure: Error {
    var error: UpdaterError
    var outcome: CheckOutcome
}

extension Updater {
    /// Looks for an update on the configured channel, records the outcome (`LastCheck`), and
    /// tells the server what it must hear first (the version that ran before, or a fallback).
    /// Called on a worker thread, in a transaction.
    func lookForUpdate(_ trigger: CheckTrigger, force: Bool) throws(CheckFailure) -> CheckFinding {
        let finding: CheckFinding
        do throws(CheckFailure) {
            let channel: UpdateChannel
            do {
                channel = try UpdateChannel.resolve(configuration, runningVersion: host.version)
            } catch {
                throw CheckFailure(error: .updateConfiguration(error), outcome: .failed)
            }
            cache.withLock { $0.channel = channel }
            switch channel {
            case let .bundle(source):
                finding = try checkBundle(source, force: force)
            case let .omaha(settings):
                finding = try checkOmaha(settings, trigger: trigger, force: force)
            case let .disabled(setBy):
                throw CheckFailure(error: .noUpdate("updates are disabled (\(setBy)); remove that setting to update again"),
                                   outcome: .noUpdate)
            case .none:
                throw CheckFailure(error: .noSource, outcome: .noUpdate)
            }
        } catch {
            let result: CheckRecord.Result = switch error.error {
            case .noSource, .noUpdate: .noUpdate
            default: .failed
            }
            recordCheck(CheckRecord(time: clock.epochSeconds, result: result, version: "", message: error.error.description))
            throw error
        }
        recordCheck(CheckRecord(time: clock.epochSeconds, result: finding.record, version: finding.result.version,
                                message: finding.result.message))
        switch finding.record {
        case .updateAvailable: log.notice("\(finding.result.message)", metadata: ["version": "\(finding.result.version)"])
        case .failed: log.error("\(finding.result.message)")
        default: log.info("\(finding.result.message)")
        }
        return finding
    }

    private func recordCheck(_ record: CheckRecord) {
        commitInBackground("the outcome of the check", .checked(record))
        notifyChanged()
    }

    private func checkBundle(_ source: String, force: Bool) throws(CheckFailure) -> CheckFinding {
        let saved = book.state
        let pending = pendingReboot(saved)?.version
        let finding: UpdateCheck.Finding
        do {
            finding = try UpdateCheck(trust: trust, host: host, http: httpOptions, cancellation: runner.stopSignal)
                .run(source: source, pendingVersion: pending, quarantine: saved.quarantine, force: force)
        } catch {
            let wrapped = InstallError.wrap(error)
            let outcome: CheckOutcome = if case let .stream(.httpStatus(_, status, _)) = wrapped {
                .serverError(httpStatus: status)
            } else if case .stream(.http) = wrapped {
                .networkFailure
            } else {
                .failed
            }
            throw CheckFailure(error: .bundleCheck(source: source, wrapped), outcome: outcome)
        }
        let now = clock.epochSeconds
        commitInBackground("the time of the check", .checkTime(now))
        let result = finding.result
        return CheckFinding(result: result, record: finding.record,
                            installSource: result.available ? source : nil, offer: nil,
                            outcome: result.available ? .success : .noUpdate, pollInterval: nil)
    }

    func omahaSession(_ settings: OmahaSettings) throws(CheckFailure) -> OmahaSession {
        let facts: OmahaHostFacts
        do {
            facts = try OmahaHostFacts.gather(root: configuration.root, bootID: bootID)
        } catch {
            throw CheckFailure(error: .hostFacts(error), outcome: .failed)
        }
        let aleph = book.state.omaha.alephVersion ?? settings.version ?? "0.0.0"
        let client = OmahaClient(server: settings.server, caBundle: configuration.caBundle,
                                 connectTimeoutSeconds: configuration.connectTimeoutSeconds,
                                 timeoutSeconds: configuration.requestTimeoutSeconds, cancellation: runner.stopSignal)
        return OmahaSession(settings: settings, facts: facts, client: client, alephVersion: aleph, log: log)
    }

    private func checkOmaha(_ settings: OmahaSettings, trigger: CheckTrigger, force: Bool) throws(CheckFailure) -> CheckFinding {
        let session = try omahaSession(settings)
        let saved = book.state
        let pending = pendingReboot(saved)
        let onTrial = saved.trial.map { $0.slot == booted?.slot.name && $0.bootID == bootID } ?? false
        let (reporting, staged) = (saved.omaha, saved.staged)

        // update_engine only pings while an update waits for its reboot. Tandem also only pings
        // while the running version is on trial: its "3/2 previousversion" would tell the server
        // the update is complete before this boot has proven it.
        if pending != nil || onTrial {
            let message = if let pending {
                "version \(pending.version) is installed in slot \(pending.slot.rawValue) and waits for a reboot (updatectl reboot); "
                    + "the update server was only pinged"
            } else {
                "the running version is on trial; the update server was only pinged, and checks resume once this boot is "
                    + "marked good (updatectl mark-good, or tandem-bless-boot.service)"
            }
            do {
                try session.client.send(session.request(.ping, trigger.installSource))
            } catch {
                throw CheckFailure(error: .updateServer(error, pinging: true), outcome: outcome(of: error))
            }
            let result = CheckResult(available: false, version: pending?.version ?? "", size: 0, message: message)
            return CheckFinding(result: result, record: .pinged, outcome: .noUpdate)
        }

        // What the server must hear first: a fallback (or an update that did not take, which is
        // how update_engine recognises one: the version it replaced still runs), else which
        // version ran before this one.
        let previous = reporting.previousVersion
        let rolledBack = reporting.rollbackPending || (previous.map { !$0.isEmpty && $0 == session.version } ?? false)
        let body: OmahaRequest.Body = rolledBack ? .updateCheckAfterRollback : .updateCheck(previousVersion: previous ?? "0.0.0.0")
        let response: OmahaResponse
        do {
            response = try session.client.check(session.request(body, trigger.installSource))
        } catch {
            if error.httpStatus != nil {
                // As update_engine: the failed check is reported as 3/0 with 2000 + the status.
                session.report(.failed(error.code), trigger.installSource)
            }
            throw CheckFailure(error: .updateServer(error, pinging: false), outcome: outcome(of: error))
        }
        let now = clock.epochSeconds
        // Not recorded: the server hears the previous version or the fallback again next time.
        commitInBackground("what the update server was told", .serverTold(at: now))

        switch response {
        case let .noUpdate(pollInterval):
            let result = CheckResult(available: false, version: "", size: 0,
                                     message: "no update: \(settings.server) has nothing newer than \(session.version) for group \(settings.group)")
            return CheckFinding(result: result, record: .noUpdate, outcome: .noUpdate, pollInterval: pollInterval)
        case let .backOff(reason, pollInterval):
            let result = CheckResult(available: false, version: "", size: 0, message: "no update for now: \(reason)")
            return CheckFinding(result: result, record: .deferred, outcome: .refused, pollInterval: pollInterval)
        case let .update(update):
            return offered(update, session: session, staged: staged, force: force)
        }
    }

    private func offered(_ update: OmahaUpdate, session: OmahaSession, staged: StagedUpdate?, force: Bool) -> CheckFinding {
        let server = session.settings.server
        func declined(_ message: String) -> CheckFinding {
            CheckFinding(result: CheckResult(available: false, version: update.version, size: update.size, message: message),
                         record: .deferred, outcome: .noUpdate, pollInterval: update.pollInterval)
        }
        let offered = OSVersion(update.version)
        if offered <= OSVersion(session.version) {
            return CheckFinding(
                result: CheckResult(available: false, version: update.version, size: update.size,
                                    message: "no update: \(server) offers version \(update.version) and this system runs \(session.version)"),
                record: .noUpdate, outcome: .noUpdate, pollInterval: update.pollInterval)
        }
        if case let .refused(entry) = book.state.quarantine.verdict(for: update.version, force: force) {
            return declined(Quarantine.skipped("skipped: \(server) offers version \(update.version)", entry))
        }
        if let staged, OSVersion(staged.version) == offered {
            return declined("version \(update.version) is already downloaded into slot \(staged.slot.rawValue) and waits for "
                + "updatectl activate")
        }
        let digest = Data(update.sha256).base64EncodedString()
        let result = CheckResult(available: true, version: update.version, size: update.size,
                                 message: "version \(update.version) (\(update.size) bytes) is available from \(server)")
        return CheckFinding(result: result, record: .updateAvailable, installSource: update.urls[0],
                            offer: UpdateOffer(version: update.version, size: update.size, sha256: digest, server: server),
                            outcome: .success, pollInterval: update.pollInterval)
    }

    private func outcome(of error: OmahaClientError) -> CheckOutcome {
        switch error {
        case .unreachable: .networkFailure
        case let .httpStatus(_, status, _): .serverError(httpStatus: status)
        case .response: .failed
        }
    }
}
