import CCurl
import Platform

/// A download: ranged GETs whose body goes to the caller's sink as it arrives, with the same
/// transport settings (schemes, redirects, TLS) as the exchanges of `HTTPClient`.
///
/// libcurl uses the system's OpenSSL and CA store, the same TLS stack as the rest of Tandem,
/// and hands data over in its own buffer, from which the caller copies once.
public final class HTTPDownload {
    public struct Response: Sendable {
        public var status: Int
        public var etag: String?
        /// From `Content-Range: bytes START-END/TOTAL`.
        public var rangeStart: UInt64?
        public var totalLength: UInt64?
        /// `multipart/byteranges; boundary=…` when a request for several ranges got them all.
        public var contentType: String?
    }

    /// A sink's way of ending a transfer early on purpose (it has all it needs).
    public struct EnoughData: Error {
        public init() {}
    }

    public let url: String
    private let options: HTTPOptions
    /// Ends a transfer at once when the install it feeds is cancelled, even one that receives
    /// nothing (a stalled server), instead of at the low-speed limit.
    private let cancellation: (any TransferCancellation)?

    public init(url: String, options: HTTPOptions, cancellation: (any TransferCancellation)?) {
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
        let cancellation: (any TransferCancellation)?

        init(handle: UnsafeMutableRawPointer, cancellation: (any TransferCancellation)?, validate: @escaping (Response) throws -> Void,
             sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
            self.handle = handle
            self.cancellation = cancellation
            self.validate = validate
            self.sink = sink
        }
    }

    /// GETs bytes `start` up to `end` (an open end when nil), passes the response to `validate`
    /// before the first body byte, then every body byte to `sink`. Throws `HTTPClientError` for
    /// network and HTTP failures and a cancel, and what `validate` or `sink` threw; a sink's
    /// `EnoughData` ends it quietly.
    @discardableResult
    public func get(from start: UInt64, to end: UInt64?, ifRange validator: String?,
             validate: @escaping (Response) throws -> Void,
             sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Response {
        try get(rangeSpec: end.map { "\(start)-\($0 - 1)" } ?? "\(start)-", ifRange: validator,
                receiveBuffer: HTTPDownload.receiveBuffer(expecting: end.map { $0 - min(start, $0) }), validate: validate, sink: sink)
    }

    /// GETs several ranges (ascending, disjoint, none empty) in one request, as `get` does one.
    /// A server that has them all answers 206 with a `multipart/byteranges` body (`contentType`
    /// says), which the caller parses; one may merge them into one range, or ignore them (200).
    @discardableResult
    public func get(ranges: [Range<UInt64>], ifRange validator: String?,
                    validate: @escaping (Response) throws -> Void,
                    sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Response {
        let spec = ranges.map { "\($0.lowerBound)-\($0.upperBound - 1)" }.joined(separator: ",")
        // Disjoint ranges of a file: their lengths add up to less than its size.
        let expected = ranges.reduce(UInt64(0)) { $0 &+ ($1.upperBound - $1.lowerBound) }
        return try get(rangeSpec: spec, ifRange: validator, receiveBuffer: HTTPDownload.receiveBuffer(expecting: expected),
                       validate: validate, sink: sink)
    }

    /// libcurl's receive buffer (its default is 16 KiB) for an answer of `expected` bytes (nil:
    /// not known). Streaming an image takes its largest, 512 KiB: a 512 MiB bundle from nginx
    /// takes ~2,900 reads instead of ~33,000, and installs 4% faster (docs/benchmarks.md).
    /// Anything up to a few megabytes (a chunk table, a delta's batch of ranges) takes 64 KiB:
    /// the buffer is live beside the pipeline's, and a delta's peak RSS must stay within 32 MiB
    /// (docs/streaming.md, "Memory").
    static func receiveBuffer(expecting expected: UInt64?) -> Int {
        guard let expected, expected <= 4 << 20 else { return 512 << 10 }
        return 64 << 10
    }

    private func get(rangeSpec: String, ifRange validator: String?, receiveBuffer: Int,
                     validate: @escaping (Response) throws -> Void,
                     sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Response {
        guard let handle = CurlTransport.makeHandle() else {
            throw HTTPClientError.network(url: url, detail: "libcurl could not start a transfer")
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
            tandem_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, receiveBuffer)
            tandem_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond)
            tandem_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, options.lowSpeedSeconds)
            tandem_curl_setopt_string(handle, CURLOPT_RANGE, rangeSpec)
            if let validator {
                headers = curl_slist_append(headers, "If-Range: \(validator)")
            }
            return CurlTransport.perform(handle, headers: headers, onHeader: HTTPDownload.onHeader, onData: HTTPDownload.onData,
                                         onProgress: cancellation == nil ? nil : HTTPDownload.onProgress,
                                         context: contextPointer, errorBuffer: errorBuffer.baseAddress)
        }
        withExtendedLifetime(context) {}

        if let failure = context.failure {
            if failure is EnoughData { return context.response }
            throw failure
        }
        if code == CURLE_ABORTED_BY_CALLBACK { throw HTTPClientError.cancelled(url: url) }
        guard code == CURLE_OK else {
            var status = 0
            tandem_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            let detail = CurlTransport.detail(of: code, errorText: errorText)
            if code == CURLE_HTTP_RETURNED_ERROR {
                throw HTTPClientError.errorStatus(url: url, status: status, detail: detail)
            }
            var connectMicroseconds: curl_off_t = 0
            tandem_curl_getinfo_off(handle, CURLINFO_CONNECT_TIME_T, &connectMicroseconds)
            if code == CURLE_OPERATION_TIMEDOUT, connectMicroseconds > 0 {
                // Connected, then too slow: the low-speed limit ended it (a connect timeout has no connect time).
                throw HTTPClientError.stalled(url: url, bytesPerSecond: options.lowSpeedBytesPerSecond, seconds: options.lowSpeedSeconds)
            }
            throw HTTPClientError.network(url: url, detail: detail)
        }
        if !context.validated {
            // An empty body: validate the response all the same.
            context.response.status = HTTPDownload.status(of: handle)
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
        switch HeaderLine(UnsafeRawBufferPointer(start: data, count: length)) {
        case .status: context.response = Response(status: 0)
        case let .field("etag", value): context.response.etag = value
        case let .field("content-type", value): context.response.contentType = value
        case let .field("content-range", value): (context.response.rangeStart, context.response.totalLength) = parseContentRange(value)
        case .field, .other: break
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
