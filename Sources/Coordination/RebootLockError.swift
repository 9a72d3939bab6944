import HTTP

/// Why a lock server could not be asked, or its answer could not be used.
public enum RebootLockError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Service: String, Sendable {
        case etcd = "etcd"
        case fleetLock = "the FleetLock server"
    }

    /// A server and why it did not answer.
    public struct EndpointFailure: Equatable, Sendable {
        public let endpoint: String
        public let error: HTTPClientError

        public init(endpoint: String, error: HTTPClientError) {
            self.endpoint = endpoint
            self.error = error
        }
    }

    /// No endpoint answered at all: each with its reason.
    case unreachable(Service, [EndpointFailure])
    /// etcd answered with an error it should not give to a correct request: most often
    /// authentication (v2 code 110, v3 "permission denied") or a read-only member.
    case etcdError(url: String, status: Int, message: String)
    /// The answer is not the JSON that the etcd API sends; `detail` says what was wrong.
    case unexpectedResponse(url: String, status: Int, detail: String)
    /// etcd 3.4 and later answer the v2 keys API with a plain 404 unless started with
    /// `--enable-v2=true` (the "response is invalid json" of Flatcar issue #1442).
    case v2Disabled(url: String)
    case semaphoreValue(SemaphoreValueError)
    /// Others kept writing the semaphore between each read and write, more times than allowed.
    case contended(key: String, attempts: Int)

    public var description: String {
        switch self {
        case let .unreachable(service, failures):
            let each = failures.map { "\($0.endpoint): \($0.error)" }.joined(separator: "; ")
            let endpoints = failures.count == 1 ? "" : " at any of its \(failures.count) endpoints"
            return "could not reach \(service.rawValue)\(endpoints) (\(each)); "
                + "check that it runs and that the addresses, certificates and network are right"
        case let .etcdError(url, status, message):
            return "etcd refused \(url) with HTTP \(status): \(message); check the credentials and the member's health"
        case let .unexpectedResponse(url, status, detail):
            return "\(url) answered HTTP \(status) with something that is not etcd's JSON (\(detail)); "
                + "check that the endpoint is an etcd client URL and that the API version (v2 or v3) is right"
        case let .v2Disabled(url):
            return "\(url) does not serve etcd's v2 keys API: etcd 3.4 and later need --enable-v2=true "
                + "(etcd 3.6 removed it); start etcd with it, or use the v3 API, whose keyspace is separate"
        case let .semaphoreValue(error):
            return error.description
        case let .contended(key, attempts):
            return "the reboot semaphore \(key) changed under every one of \(attempts) attempts to update it; "
                + "many hosts are writing it at once, try again later"
        }
    }
}
