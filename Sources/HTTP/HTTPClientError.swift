/// Why an exchange got no response. A response with any status, 4xx and 5xx included, is not
/// an error here.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection, DNS, TLS or a broken transfer, with libcurl's explanation.
    case network(url: String, detail: String)
    case refused(url: String, detail: String)
    case timedOut(url: String, seconds: Int)
    /// A download received less than `bytesPerSecond` for `seconds` in a row (libcurl's
    /// low-speed limit): the server or the network is stuck.
    case stalled(url: String, bytesPerSecond: Int, seconds: Int)
    case tooLarge(url: String, limit: Int)
    case unsupportedURL(String)
    /// A download's answer was an error status (a download never takes one as its body).
    case errorStatus(url: String, status: Int, detail: String)
    /// A transfer ended because its `TransferCancellation` said so.
    case cancelled(url: String)

    public var description: String {
        switch self {
        case let .network(url, detail):
            "cannot reach \(url): \(detail); check the address and the network"
        case let .refused(url, detail):
            "\(url) refused the connection (\(detail)); is the server running and is the port right?"
        case let .timedOut(url, seconds):
            "\(url) did not answer completely within \(seconds) s; the server or the network is too slow or stuck"
        case let .stalled(url, bytesPerSecond, seconds):
            "\(url) sent less than \(bytesPerSecond) bytes a second for \(seconds) s; the transfer stalled and was ended"
        case let .tooLarge(url, limit):
            "\(url) sent more than \(limit) bytes, far more than such an answer needs; refused"
        case let .unsupportedURL(url):
            "\"\(url)\" is not an http:// or https:// URL"
        case let .errorStatus(url, status, detail):
            "\(url) answered HTTP \(status): \(detail)"
        case let .cancelled(url):
            "the transfer from \(url) was cancelled"
        }
    }
}
