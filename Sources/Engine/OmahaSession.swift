import Logging
import Omaha

/// One machine's conversation with its Omaha server: requests built from the configuration,
/// the host's facts and what was recorded about the last update, posted by `OmahaClient`.
struct OmahaSession {
    let settings: OmahaSettings
    let facts: OmahaHostFacts
    let client: OmahaClient
    let alephVersion: String
    let log: Logger

    var version: String { settings.version ?? "0.0.0" }

    func request(_ body: OmahaRequest.Body, _ source: OmahaRequest.InstallSource) -> OmahaRequest {
        facts.request(body, installSource: source, appID: settings.appID, version: version, track: settings.group,
                      machineAlias: settings.machineAlias, alephVersion: alephVersion, board: settings.board,
                      architecture: OmahaSettings.architecture)
    }

    /// Tells the server how an update went. A report that does not arrive costs the server's
    /// dashboard a step, not the update: it is logged and the update goes on, as update_engine's
    /// event requests do not stop its pipeline either.
    func report(_ event: OmahaEvent, _ source: OmahaRequest.InstallSource) {
        do {
            try client.send(request(.event(event), source))
            log.info("reported event \(event.type.rawValue)/\(event.result.rawValue) to \(settings.server)",
                     metadata: ["omaha_event": "\(event.type.rawValue)/\(event.result.rawValue)",
                                "omaha_errorcode": "\(event.errorCode)"])
        } catch {
            log.warning("cannot report event \(event.type.rawValue)/\(event.result.rawValue) to the update server: \(error)")
        }
    }
}
