import FoundationEssentials
import Platform
import HTTP

/// The semaphore through etcd's v2 keys API, request for request as locksmith's vendored
/// `go.etcd.io/etcd/client` sends them, so that Tandem and locksmithd hosts share one key.
public struct EtcdV2Store: SemaphoreStore {
    public let connection: EtcdConnection
    public let key: String

    public init(connection: EtcdConnection, group: String = "") {
        self.connection = connection
        self.key = LocksmithSemaphore.key(group: group)
    }

    /// v2 error codes (etcd `error/error.go`).
    private enum Code {
        static let keyNotFound = 100
        static let testFailed = 101
        static let nodeExist = 105
    }

    private struct Node: Decodable {
        var value: String?
        var modifiedIndex: UInt64?
    }

    private struct Body: Decodable {
        var node: Node?
        var errorCode: Int?
        var message: String?
        var cause: String?
    }

    public func get() throws(RebootLockError) -> VersionedSemaphore? {
        try connection.firstAnswering { (endpoint) throws(EtcdConnection.EndpointError) -> VersionedSemaphore? in
            let (url, status, body) = try exchange(.get, endpoint: endpoint, query: "", value: nil)
            if body.errorCode == Code.keyNotFound { return nil }
            guard status == 200, body.errorCode == nil else { throw .answered(failure(url, status, body)) }
            guard let value = body.node?.value, let index = body.node?.modifiedIndex else {
                throw .answered(.unexpectedResponse(url: url, status: status, detail: "no node value and modifiedIndex"))
            }
            do throws(SemaphoreValueError) {
                return VersionedSemaphore(value: try LocksmithSemaphore(json: Array(value.utf8)), version: index)
            } catch {
                throw .answered(.semaphoreValue(error))
            }
        }
    }

    public func create(_ value: LocksmithSemaphore) throws(RebootLockError) -> Bool {
        try write(value, query: "?prevExist=false", lost: Code.nodeExist)
    }

    public func compareAndSwap(_ value: LocksmithSemaphore, expecting version: UInt64) throws(RebootLockError) -> Bool {
        // A key deleted since it was read (100) is a lost race too: the next read recreates it.
        try write(value, query: "?prevIndex=\(version)", lost: Code.testFailed, Code.keyNotFound)
    }

    /// A conditional PUT: true if written, false if the condition failed with one of `lost`.
    private func write(_ value: LocksmithSemaphore, query: String, lost codes: Int...) throws(RebootLockError) -> Bool {
        try connection.firstAnswering { (endpoint) throws(EtcdConnection.EndpointError) -> Bool in
            let (url, status, body) = try exchange(.put, endpoint: endpoint, query: query, value: value.json)
            if let code = body.errorCode, codes.contains(code) { return false }
            guard status == 200 || status == 201, body.errorCode == nil else { throw .answered(failure(url, status, body)) }
            return true
        }
    }

    /// One request to one endpoint, with its JSON answer decoded (success or v2 error alike).
    private func exchange(_ method: HTTPRequest.Method, endpoint: String, query: String, value: String?)
        throws(EtcdConnection.EndpointError) -> (String, Int, Body)
    {
        // The key is escaped as a URL path, as Go's url.URL.String() does to the client's path,
        // so that a group's %XX reaches etcd as the characters locksmith stored.
        let url = endpoint + "/v2/keys/" + GoEscaping.pathEscape(key) + query
        var headers: [HTTPHeader] = connection.basicAuthorization.map { [$0] } ?? []
        var body: [UInt8] = []
        if let value {
            headers.append(HTTPHeader("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(("value=" + GoEscaping.queryEscape(value)).utf8)
        }
        let response = try connection.perform(HTTPRequest(method, url, headers: headers, body: body))
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(response.body)) else {
            if response.status == 404 { throw .answered(.v2Disabled(url: url)) }
            throw .answered(.unexpectedResponse(url: url, status: response.status, detail: "body \(clipped(response.text))"))
        }
        return (url, response.status, decoded)
    }

    private func failure(_ url: String, _ status: Int, _ body: Body) -> RebootLockError {
        let code = body.errorCode.map { "error \($0) " } ?? ""
        let cause = body.cause.map { " (\($0))" } ?? ""
        return .etcdError(url: url, status: status, message: code + (body.message ?? "no message") + cause)
    }
}

/// A server's text as a message can show it: short, on one line.
func clipped(_ text: String) -> String {
    let line = text.trimmingWhitespace().split(whereSeparator: \.isNewline).joined(separator: " ")
    return line.count <= 120 ? "\"\(line)\"" : "\"\(line.prefix(120))…\""
}
