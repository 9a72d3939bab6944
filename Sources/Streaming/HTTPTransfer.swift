import CCurl
import FoundationEssentials
import HTTP
import Platform

/// One ranged GET with libcurl, the only place in Streaming that calls it; the transport
/// settings (schemes, redirects, TLS) are `CurlTransport`'s, shared with the HTTP module.
///
/// libcurl uses the system's OpenSSL and CA store, the same TLS stack as the rest of Tandem,
/// and hands data over in its own buffer, from which the caller copies once.
final class HTTPTransfer {
    struct Response {
        var status: Int
        var etag: String?
        /// From `Content-Range: bytes START-END/TOTAL`.
        var rangeStart: UInt64?
        var totalLength: UInt64?
    }

    /// A sink's way of ending a transfer early on purpose (it has all it needs).
    struct EnoughData: Error {}

    let url: String
    private let options: HTTPOptions
    /// Ends a transfer at once when the install it feeds is cancelled, even one that receives
    /// nothing (a stalled server), instead of at the low-speed limit.
    private let cancellation: (any CancellationSignal)?

    init(url: String, options: HTTPOptions, cancellation: (any CancellationSignal)?) {
        self.url = url
        self.options = options
        self.cancellation = cancellation
    }

    /// What the callbacks need, reached through libcurl's user-data pointer.
    private final class Context {
        var response = Response(status: 0)
        var validated = false
        var validate: (Response) throws -> Void
        var sink: (UnsafeRawBufferPointer) throws -> Void
        var failure: (any Error)?
        let handle: UnsafeMutableRawPointer
        let cancellation: (any CancellationSignal)?

        init(handle: UnsafeMutableRawPointer, cancellation: (any CancellationSignal)?, validate: @escaping (Response) throws -> Void,
             sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
            self.handle = handle
            self.cancellation = cancellation
            self.validate = validate
            self.sink = sink
        }
    }

    /// GETs `range` (absolute bundle offsets; an open end when `upperBound` is nil), passes the
    /// response to `validate` before the first body byte, then every body byte to `sink`.
    /// Throws `StreamError` for network and HTTP failures; a sink's `EnoughData` ends it quietly.
    @discardableResult
    func get(from start: UInt64, to end: UInt64?, ifRange validator: String?,
             validate: @escaping (Response) throws -> Void,
             sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Response {
        guard let handle = CurlTransport.makeHandle() else {
            throw StreamError.http(url: url, detail: "libcurl could not start a transfer")
        }
        defer { curl_easy_cleanup(handle) }
        let context = Context(handle: handle, cancellation: cancellation, validate: validate, sink: sink)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }

        let code: CURLcode = errorText.withUnsafeMutableBufferPointer { errorBuffer in
            CurlTransport.configure(handle, url: url, followRedirects: true, connectTimeoutSeconds: options.connectTimeoutSeconds,
                                    caBundle: options.caBundle)
            tandem_curl_setopt_long(handle, CURLOPT_FAILONERROR, 1)
            tandem_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond)
            tandem_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, options.lowSpeedSeconds)
            tandem_curl_setopt_string(handle, CURLOPT_RANGE, end.map { "\(start)-\($0 - 1)" } ?? "\(start)-")
            if let validator {
                headers = curl_slist_append(headers, "If-Range: \(validator)")
            }
            return CurlTransport.perform(handle, headers: headers, onHeader: HTTPTransfer.onHeader, onData: HTTPTransfer.onData,
                                         onProgress: cancellation == nil ? nil : HTTPTransfer.onProgress,
                                         context: contextPointer, errorBuffer: errorBuffer.baseAddress)
        }
        withExtendedLifetime(context) {}

        if let failure = context.failure {
            if failure is EnoughData { return context.response }
            throw failure
        }
        if code == CURLE_ABORTED_BY_CALLBACK { throw StreamError.cancelled }
        guard code == CURLE_OK else {
            var status = 0
            tandem_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            let detail = CurlTransport.detail(of: code, errorText: errorText)
            if code == CURLE_HTTP_RETURNED_ERROR {
                throw StreamError.httpStatus(url: url, status: status, detail: detail)
            }
            throw StreamError.http(url: url, detail: detail)
        }
        if !context.validated {
            // An empty body: validate the response all the same.
            context.response.status = HTTPTransfer.status(of: handle)
            try validate(context.response)
        }
        return context.response
    }

    private static func status(of handle: UnsafeMutableRawPointer) -> Int {
        var status = 0
        tandem_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    /// Header lines arrive one at a time; a new status line (after a redirect) starts afresh.
    private static let onHeader: tandem_curl_data_callback = { data, size, count, userData in
        guard let data, let userData else { return 0 }
        let context = Unmanaged<Context>.fromOpaque(userData).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            .trimmingWhitespace()
        if line.hasPrefix("HTTP/") {
            context.response = Response(status: 0)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
            switch name {
            case "etag": context.response.etag = value
            case "content-range": (context.response.rangeStart, context.response.totalLength) = parseContentRange(value)
            default: break
            }
        }
        return length
    }

    private static let onData: tandem_curl_data_callback = { data, size, count, userData in
        guard let data, let userData else { return 0 }
        let context = Unmanaged<Context>.fromOpaque(userData).takeUnretainedValue()
        do {
            if !context.validated {
                context.response.status = status(of: context.handle)
                context.validated = true
                try context.validate(context.response)
            }
            try context.sink(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        } catch {
            // Returning less than was offered makes libcurl stop with a write error.
            context.failure = error
            return 0
        }
    }

    /// Called by libcurl at least once a second, bytes or not: a cancel ends the transfer.
    private static let onProgress: tandem_curl_progress_callback = { userData, _, _, _, _ in
        guard let userData else { return 0 }
        let context = Unmanaged<Context>.fromOpaque(userData).takeUnretainedValue()
        return context.cancellation?.isCancelled == true ? 1 : 0
    }

    /// `bytes 100-199/1000` → (100, 1000); `bytes */1000` → (nil, 1000).
    static func parseContentRange(_ value: String) -> (UInt64?, UInt64?) {
        guard value.hasPrefix("bytes ") else { return (nil, nil) }
        let parts = value.dropFirst(6).split(separator: "/")
        guard parts.count == 2 else { return (nil, nil) }
        let start = parts[0].split(separator: "-").first.flatMap { UInt64($0) }
        return (start, UInt64(parts[1]))
    }
}
