import HTTP

/// Posts requests to one Omaha server the way update_engine's fetcher does: an XML body with
/// `Content-Type: text/xml`, any 2xx status accepted, the answer bounded to
/// `OmahaResponse.sizeLimit` and read in full before it is parsed.
public struct OmahaClient: Sendable {
    public let server: String
    private let http: HTTPClient

    /// `timeoutSeconds` bounds a whole exchange, a body dripped byte by byte included, so that a
    /// stuck server cannot hold the daemon's only transaction for long.
    /// `cancellation` ends an exchange in flight at once (the service stopping).
    public init(server: String, caBundle: String? = nil, connectTimeoutSeconds: Int = 30, timeoutSeconds: Int = 60,
                cancellation: (any TransferCancellation)? = nil) {
        self.server = server
        http = HTTPClient(options: HTTPOptions(
            caBundle: caBundle, connectTimeoutSeconds: connectTimeoutSeconds, timeoutSeconds: timeoutSeconds,
            responseLimit: OmahaResponse.sizeLimit), cancellation: cancellation)
    }

    /// An update check: what the server offers.
    public func check(_ request: OmahaRequest) throws(OmahaClientError) -> OmahaResponse {
        let body = try exchange(request)
        do {
            return try OmahaResponse.parse(body)
        } catch {
            throw .response(server: server, error)
        }
    }

    /// An event or a ping. The answer must be an Omaha response, as update_engine insists, but
    /// what it says beyond that is not used: servers acknowledge events with `status="ok"` only.
    public func send(_ request: OmahaRequest) throws(OmahaClientError) {
        let body = try exchange(request)
        do {
            try OmahaResponse.checkAcknowledgement(body)
        } catch {
            throw .response(server: server, error)
        }
    }

    private func exchange(_ request: OmahaRequest) throws(OmahaClientError) -> [UInt8] {
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(.post, server, headers: [HTTPHeader("Content-Type", "text/xml")],
                                                    body: request.xml()))
        } catch .tooLarge {
            throw .response(server: server, .tooLarge(size: OmahaResponse.sizeLimit + 1, limit: OmahaResponse.sizeLimit))
        } catch {
            throw .unreachable(error)
        }
        guard response.isSuccess else {
            throw .httpStatus(server: server, status: response.status, body: String(response.text.prefix(200)))
        }
        return response.body
    }
}
