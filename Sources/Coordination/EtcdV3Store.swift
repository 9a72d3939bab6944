import FoundationEssentials
import HTTP

/// The semaphore through etcd's v3 API, over the JSON gateway that etcd serves at `/v3/` (3.4
/// and later): the same key and JSON as locksmith, written with the transactions of its
/// unmerged etcd v3 port (compare on the key's `version`), which airlock uses for its own key.
/// The v3 keyspace is separate from v2's: locksmithd (v2) never sees this key.
public struct EtcdV3Store: SemaphoreStore {
    public let connection: EtcdConnection
    public let key: String

    public init(connection: EtcdConnection, group: String = "") {
        self.connection = connection
        self.key = LocksmithSemaphore.key(group: group)
    }

    // The gateway's JSON: bytes in base64, 64-bit integers as strings.

    private struct RangeRequest: Encodable {
        var key: String
    }

    private struct RangeResponse: Decodable {
        struct KeyValue: Decodable {
            var value: String?
            var version: GatewayInteger?
        }

        var kvs: [KeyValue]?
    }

    private struct TxnRequest: Encodable {
        struct Compare: Encodable {
            var key: String
            var result = "EQUAL"
            var target = "VERSION"
            var version: String
        }

        struct Put: Encodable {
            var key: String
            var value: String
        }

        struct Operation: Encodable {
            var request_put: Put
        }

        var compare: [Compare]
        var success: [Operation]
    }

    private struct TxnResponse: Decodable {
        // Left out of the JSON when false.
        var succeeded: Bool?
    }

    private struct AuthenticateRequest: Encodable {
        var name: String
        var password: String
    }

    private struct AuthenticateResponse: Decodable {
        var token: String?
    }

    private struct GatewayError: Decodable {
        var error: String?
        var message: String?
    }

    private var encodedKey: String { Data(key.utf8).base64EncodedString() }

    public func get() throws(RebootLockError) -> VersionedSemaphore? {
        try connection.firstAnswering { (endpoint) throws(EtcdConnection.EndpointError) -> VersionedSemaphore? in
            let (url, answer) = try call("kv/range", RangeRequest(key: encodedKey), as: RangeResponse.self, endpoint: endpoint)
            guard let found = answer.kvs?.first else { return nil }
            guard let encoded = found.value, let bytes = Data(base64Encoded: encoded), let version = found.version?.value else {
                throw .answered(.unexpectedResponse(url: url, status: 200, detail: "a key without a base64 value or a version"))
            }
            do throws(SemaphoreValueError) {
                return VersionedSemaphore(value: try LocksmithSemaphore(json: Array(bytes)), version: version)
            } catch {
                throw .answered(.semaphoreValue(error))
            }
        }
    }

    public func create(_ value: LocksmithSemaphore) throws(RebootLockError) -> Bool {
        try put(value, ifVersion: 0)
    }

    public func compareAndSwap(_ value: LocksmithSemaphore, expecting version: UInt64) throws(RebootLockError) -> Bool {
        try put(value, ifVersion: version)
    }

    /// `Txn(If(Version(key) == version), Then(Put(key, value)))`; version 0 means absent.
    private func put(_ value: LocksmithSemaphore, ifVersion version: UInt64) throws(RebootLockError) -> Bool {
        let request = TxnRequest(
            compare: [.init(key: encodedKey, version: String(version))],
            success: [.init(request_put: .init(key: encodedKey, value: Data(value.json.utf8).base64EncodedString()))])
        return try connection.firstAnswering { (endpoint) throws(EtcdConnection.EndpointError) -> Bool in
            try call("kv/txn", request, as: TxnResponse.self, endpoint: endpoint).1.succeeded ?? false
        }
    }

    /// One gateway call on one endpoint, authenticated first when credentials are configured
    /// (the gateway takes a token from `auth/authenticate`, not basic authentication).
    private func call<Request: Encodable, Response: Decodable>(
        _ method: String, _ request: Request, as type: Response.Type, endpoint: String
    ) throws(EtcdConnection.EndpointError) -> (String, Response) {
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let credentials = connection.credentials, method != "auth/authenticate" {
            let (url, answer) = try call("auth/authenticate", AuthenticateRequest(name: credentials.username, password: credentials.password),
                                         as: AuthenticateResponse.self, endpoint: endpoint)
            guard let token = answer.token else {
                throw .answered(.unexpectedResponse(url: url, status: 200, detail: "no token"))
            }
            headers.append(HTTPHeader("Authorization", token))
        }
        let url = endpoint + "/v3/" + method
        let body: Data
        do {
            body = try JSONEncoder().encode(request)
        } catch {
            // Strings and arrays of them always encode.
            throw .answered(.unexpectedResponse(url: url, status: 0, detail: "the request could not be encoded: \(error)"))
        }
        let response = try connection.perform(HTTPRequest(.post, url, headers: headers, body: Array(body)))
        guard response.status == 200 else {
            if let error = try? JSONDecoder().decode(GatewayError.self, from: Data(response.body)), let message = error.message ?? error.error {
                throw .answered(.etcdError(url: url, status: response.status, message: message))
            }
            throw .answered(.unexpectedResponse(url: url, status: response.status, detail: "body \(clipped(response.text))"))
        }
        do {
            return (url, try JSONDecoder().decode(Response.self, from: Data(response.body)))
        } catch {
            throw .answered(.unexpectedResponse(url: url, status: 200, detail: "\(error)"))
        }
    }
}

/// A 64-bit integer as the gateway writes it: a JSON string, or a number from other encoders.
private struct GatewayInteger: Decodable {
    let value: UInt64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            value = number
        } else if let parsed = UInt64(try container.decode(String.self)) {
            value = parsed
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an unsigned integer")
        }
    }
}
