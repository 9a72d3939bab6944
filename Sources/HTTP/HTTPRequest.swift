/// One HTTP request: small bodies in and out, such as Omaha's XML, etcd's keys API or FleetLock's
/// JSON. Image downloads stream through `Streaming` instead.
public struct HTTPRequest: Sendable, Equatable {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
        case put = "PUT"
        case delete = "DELETE"
    }

    public var method: Method
    public var url: String
    /// Sent in this order; a name given twice is sent twice.
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(_ method: Method, _ url: String, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
