import HTTP

/// Why an exchange with the update server failed, with the error code update_engine reports for it.
public enum OmahaClientError: Error, Equatable, CustomStringConvertible {
    /// No response at all: DNS, connection, TLS, timeout.
    case unreachable(HTTPClientError)
    /// The server answered with a status other than 2xx.
    case httpStatus(server: String, status: Int, body: String)
    /// The server answered 200, with something that is not a usable Omaha response.
    case response(server: String, OmahaError)

    /// update_engine's code: `2000 + HTTP status` for a failed exchange (2000 when there was no
    /// response, since libcurl then reports status 0), the response's own code otherwise.
    public var code: OmahaErrorCode {
        switch self {
        case .unreachable: .httpResponse(status: 0)
        case let .httpStatus(_, status, _): .httpResponse(status: status)
        case let .response(_, error): error.code
        }
    }

    /// The HTTP status, for scheduling's back-off (update_engine doubles on 500 and 503).
    public var httpStatus: Int? {
        if case let .httpStatus(_, status, _) = self { return status }
        return nil
    }

    public var description: String {
        switch self {
        case let .unreachable(error):
            return "update server: \(error)"
        case let .httpStatus(server, status, body):
            let text = body.trimmingWhitespace()
            let detail = text.isEmpty ? "" : " (\(clipped(text)))"
            return "the update server \(server) answered HTTP \(status)\(detail), error \(OmahaErrorCode.httpResponse(status: status)); "
                + (status >= 500 ? "the server has trouble; Tandem will check again later"
                    : "check the server address (Server= in tandem.conf, SERVER= in update.conf)")
        case let .response(server, error):
            return "\(server): \(error)"
        }
    }
}
