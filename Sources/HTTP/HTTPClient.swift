import CCurl
import Platform

/// Request/response exchanges with libcurl: the body goes out whole, the answer comes back whole
/// (bounded by `responseLimit`). Uses the system's OpenSSL and CA store, as the downloads do.
public struct HTTPClient: Sendable {
    public let options: HTTPOptions
    /// What ends an exchange in flight at once (a service stop), rather than at its timeout.
    public let cancellation: (any TransferCancellation)?

    public init(options: HTTPOptions = HTTPOptions(), cancellation: (any TransferCancellation)? = nil) {
        self.options = options
        self.cancellation = cancellation
    }

    /// What the callbacks fill in, reached through libcurl's user-data pointer.
    private final class Exchange {
        let limit: Int
        let cancellation: (any TransferCancellation)?
        var status = 0
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var overLimit = false

        init(limit: Int, cancellation: (any TransferCancellation)?) {
            self.limit = limit
            self.cancellation = cancellation
        }
    }

    public func perform(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let lowered = request.url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else { throw .unsupportedURL(request.url) }
        if cancellation?.isCancelled == true { throw .cancelled(url: request.url) }
        guard let handle = CurlTransport.makeHandle() else {
            throw .network(url: request.url, detail: "libcurl could not start a transfer")
        }
        defer { curl_easy_cleanup(handle) }
        let exchange = Exchange(limit: options.responseLimit, cancellation: cancellation)
        let exchangePointer = Unmanaged.passUnretained(exchange).toOpaque()
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        for header in request.headers {
            headers = curl_slist_append(headers, "\(header.name): \(header.value)")
        }
        if request.method != .get, !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            // libcurl would otherwise wait for a "100 Continue" before sending a body over 1 KiB.
            headers = curl_slist_append(headers, "Expect:")
        }

        // One byte more than the body, so that even an empty body has an address to give libcurl.
        let code: CURLcode = (request.body + [0]).withUnsafeBytes { body in
            errorText.withUnsafeMutableBufferPointer { errorBuffer in
                CurlTransport.configure(handle, url: request.url, followRedirects: options.followRedirects,
                                        connectTimeoutSeconds: options.connectTimeoutSeconds, caBundle: options.caBundle,
                                        clientCertificate: options.clientCertificate, clientKey: options.clientKey)
                // A redirected POST stays a POST, as update_engine's fetcher keeps it.
                tandem_curl_setopt_long(handle, CURLOPT_POSTREDIR, 7)  // CURL_REDIR_POST_ALL: 301, 302 and 303
                tandem_curl_setopt_long(handle, CURLOPT_TIMEOUT, options.timeoutSeconds)
                switch request.method {
                case .get:
                    tandem_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
                case .post, .put, .delete:
                    tandem_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
                    if request.method != .delete || !request.body.isEmpty {
                        tandem_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count)
                        tandem_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress))
                    }
                }
                return CurlTransport.perform(handle, headers: headers, onHeader: HTTPClient.onHeader, onData: HTTPClient.onData,
                                             onProgress: cancellation == nil ? nil : HTTPClient.onProgress,
                                             context: exchangePointer, errorBuffer: errorBuffer.baseAddress)
            }
        }
        withExtendedLifetime(exchange) {}

        if exchange.overLimit { throw .tooLarge(url: request.url, limit: options.responseLimit) }
        guard code == CURLE_OK else {
            let detail = CurlTransport.detail(of: code, errorText: errorText)
            switch code {
            case CURLE_ABORTED_BY_CALLBACK: throw .cancelled(url: request.url)
            case CURLE_OPERATION_TIMEDOUT: throw .timedOut(url: request.url, seconds: options.timeoutSeconds)
            case CURLE_COULDNT_CONNECT: throw .refused(url: request.url, detail: detail)
            default: throw .network(url: request.url, detail: detail)
            }
        }
        var status = 0
        tandem_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: exchange.headers, body: exchange.body)
    }

    /// Header lines arrive one at a time; a new status line (after a redirect or a 100) starts afresh.
    private static let onHeader: tandem_curl_data_callback = { data, size, count, userData in
        guard let data, let userData else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(userData).takeUnretainedValue()
        let length = size * count
        switch HeaderLine(UnsafeRawBufferPointer(start: data, count: length)) {
        case .status: exchange.headers = [:]
        case let .field(name, value): exchange.headers[name] = value
        case .other: break
        }
        return length
    }

    private static let onData: tandem_curl_data_callback = { data, size, count, userData in
        guard let data, let userData else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(userData).takeUnretainedValue()
        let length = size * count
        guard exchange.body.count + length <= exchange.limit else {
            exchange.overLimit = true
            // Taking less than offered makes libcurl stop with a write error.
            return 0
        }
        exchange.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }

    /// Called by libcurl at least once a second, bytes or not: a cancel ends the exchange.
    private static let onProgress: tandem_curl_progress_callback = { userData, _, _, _, _ in
        guard let userData else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(userData).takeUnretainedValue()
        return exchange.cancellation?.isCancelled == true ? 1 : 0
    }
}
