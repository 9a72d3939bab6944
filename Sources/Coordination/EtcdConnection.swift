import FoundationEssentials
import HTTP

/// Where and how to reach etcd: client URLs tried in order, TLS and credentials. Shared by the
/// v2 and v3 stores.
public struct EtcdConnection: Sendable {
    /// locksmithctl's defaults.
    public static let defaultEndpoints = ["http://127.0.0.1:2379", "http://127.0.0.1:4001"]

    public struct Credentials: Sendable, Equatable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// Without a trailing slash.
    public let endpoints: [String]
    public let credentials: Credentials?
    let client: HTTPClient

    /// - Parameters:
    ///   - options: timeouts, and for TLS the CA bundle and the client certificate and key
    ///     (locksmith's `-etcd-cafile`, `-etcd-certfile`, `-etcd-keyfile`).
    ///   - credentials: etcd's user and password (`-etcd-username`, `-etcd-password`).
    ///   - cancellation: ends an exchange in flight at once (the service stopping).
    public init(endpoints: [String] = EtcdConnection.defaultEndpoints,
                options: HTTPOptions = HTTPOptions(connectTimeoutSeconds: 5, timeoutSeconds: 30, responseLimit: 1 << 20),
                credentials: Credentials? = nil, cancellation: (any TransferCancellation)? = nil) throws(LockConfigurationError) {
        guard !endpoints.isEmpty else { throw .noEndpoints }
        self.endpoints = try endpoints.map { (endpoint) throws(LockConfigurationError) in
            let lowered = endpoint.lowercased()
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), endpoint.count > 8 else {
                throw .invalidEndpoint(endpoint)
            }
            return endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        }
        guard (options.clientCertificate == nil) == (options.clientKey == nil) else { throw .incompleteClientCertificate }
        self.client = HTTPClient(options: options, cancellation: cancellation)
        self.credentials = credentials
    }

    /// Runs `exchange` against the first endpoint that answers: one that cannot be reached
    /// (refused, unresolvable, timed out) passes the request to the next, as locksmith's etcd
    /// client does. A repeated write is safe: every write is conditional on what was read.
    func firstAnswering<T>(_ exchange: (_ endpoint: String) throws(EndpointError) -> T) throws(RebootLockError) -> T {
        var failures: [RebootLockError.EndpointFailure] = []
        for endpoint in endpoints {
            do {
                return try exchange(endpoint)
            } catch {
                switch error {
                case let .transport(transport): failures.append(.init(endpoint: endpoint, error: transport))
                case let .answered(answered): throw answered
                }
            }
        }
        throw .unreachable(.etcd, failures)
    }

    /// What went wrong at one endpoint: no answer (try the next) or an answer that settles it.
    enum EndpointError: Error {
        case transport(HTTPClientError)
        case answered(RebootLockError)
    }

    func perform(_ request: HTTPRequest) throws(EndpointError) -> HTTPResponse {
        do {
            return try client.perform(request)
        } catch {
            throw .transport(error)
        }
    }

    /// HTTP basic authentication, which etcd's v2 API accepts.
    var basicAuthorization: HTTPHeader? {
        credentials.map { credentials in
            HTTPHeader("Authorization", "Basic " + Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString())
        }
    }
}
