import FoundationEssentials
import HTTP

/// A client of the FleetLock protocol (Zincati's; served by airlock and poseidon/fleetlock):
/// `POST <base>/v1/pre-reboot` takes a reboot slot, `POST <base>/v1/steady-state` gives it
/// back. Only HTTP 200 means yes; any other status (423 from poseidon, 500 from airlock, ...)
/// means "not yet", with the server's `{"kind","value"}` as the reason.
public struct FleetLockClient: RebootLock {
    /// The deployment's base URL, without a trailing slash.
    public let baseURL: String
    public let id: String
    public let group: String
    let client: HTTPClient

    /// - Parameters:
    ///   - baseURL: with or without a trailing slash; both reach `<base>/v1/...` (Zincati's RFC
    ///     3986 join needs the slash, which is easy to forget).
    ///   - id: this host's ID, case-sensitive. Zincati sends an app-specific ID derived from
    ///     `/etc/machine-id`; any stable non-empty ID works, as long as the host releases
    ///     with the one it locked with.
    ///   - group: `^[a-zA-Z0-9.-]+$`; Zincati's default is `default`.
    ///   - options: the timeout is long because servers may drain the node before answering
    ///     (Zincati allows 30 min).
    ///   - cancellation: ends an exchange in flight at once (the service stopping).
    public init(baseURL: String, id: String, group: String = "default",
                options: HTTPOptions = HTTPOptions(connectTimeoutSeconds: 30, timeoutSeconds: 1800, responseLimit: 64 << 10),
                cancellation: (any TransferCancellation)? = nil)
        throws(LockConfigurationError)
    {
        let lowered = baseURL.lowercased()
        guard (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")), baseURL.count > 8,
              !baseURL.contains(where: \.isWhitespace) else { throw .invalidFleetLockURL(baseURL) }
        guard !id.isEmpty else { throw .emptyID }
        guard !group.isEmpty, group.utf8.allSatisfy(FleetLockClient.isGroupByte) else { throw .invalidGroup(group) }
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        self.baseURL = String(base)
        self.id = id
        self.group = group
        self.client = HTTPClient(options: options, cancellation: cancellation)
    }

    public func acquire() throws(RebootLockError) -> LockAttempt {
        switch try post("pre-reboot") {
        case nil: .granted
        case let refusal?: .notYet(refusal)
        }
    }

    /// The protocol's unlock is "unlock if held" and answers 200 either way, so a success is
    /// always `released`, never `notHeld`.
    public func release() throws(RebootLockError) -> ReleaseAttempt {
        switch try post("steady-state") {
        case nil: .released
        case let refusal?: .notYet(refusal)
        }
    }

    /// FleetLock has no status request.
    public func status() throws(RebootLockError) -> LockStatus? {
        nil
    }

    /// The JSON body of both requests: `{"client_params":{"id":…,"group":…}}`.
    var body: String {
        "{\"client_params\":{\"id\":\(GoJSON.quoted(id)),\"group\":\(GoJSON.quoted(group))}}"
    }

    private struct RemoteError: Decodable {
        var kind: String
        var value: String?
    }

    /// nil on 200, else why not.
    private func post(_ operation: String) throws(RebootLockError) -> LockRefusal? {
        let url = baseURL + "/v1/" + operation
        let request = HTTPRequest(.post, url, headers: [
            HTTPHeader("fleet-lock-protocol", "true"),
            HTTPHeader("Content-Type", "application/json"),
        ], body: Array(body.utf8))
        let response: HTTPResponse
        do {
            response = try client.perform(request)
        } catch {
            throw .unreachable(.fleetLock, [.init(endpoint: url, error: error)])
        }
        if response.status == 200 { return nil }
        // airlock sends its JSON as text/plain (Go's http.Error), so the type is not checked.
        if let remote = try? JSONDecoder().decode(RemoteError.self, from: Data(response.body)) {
            return LockRefusal(kind: remote.kind, message: remote.value ?? "")
        }
        return LockRefusal(kind: "generic_http_\(response.status)", message: "HTTP \(response.status) \(clipped(response.text))")
    }

    private static func isGroupByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
