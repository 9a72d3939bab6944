import CCurl

/// What every libcurl transfer of Tandem's sets, in one place: http and https only, redirects
/// (at most 5, never to another scheme), no signals, TLS verified against the system's CA store
/// plus `caBundle`, Tandem's user agent. Shared by the exchanges here and by `Streaming`'s ranged
/// downloads, so that both trust and follow the same things.
public enum CurlTransport {
    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// A new easy handle; nil only when libcurl is out of memory. Free it with `curl_easy_cleanup`.
    public static func makeHandle() -> UnsafeMutableRawPointer? {
        _ = globalInit
        return curl_easy_init()
    }

    public static func configure(_ handle: UnsafeMutableRawPointer, url: String, followRedirects: Bool, connectTimeoutSeconds: Int,
                                 caBundle: String?, clientCertificate: String? = nil, clientKey: String? = nil) {
        tandem_curl_setopt_string(handle, CURLOPT_URL, url)
        tandem_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        tandem_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        tandem_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, followRedirects ? 1 : 0)
        tandem_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
        tandem_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        tandem_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeoutSeconds)
        tandem_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        tandem_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle { tandem_curl_setopt_string(handle, CURLOPT_CAINFO, caBundle) }
        if let clientCertificate { tandem_curl_setopt_string(handle, CURLOPT_SSLCERT, clientCertificate) }
        if let clientKey { tandem_curl_setopt_string(handle, CURLOPT_SSLKEY, clientKey) }
        tandem_curl_setopt_string(handle, CURLOPT_USERAGENT, "tandem/1")
    }

    /// Hands header lines to `onHeader` and body bytes to `onData`, both with `context`, and
    /// libcurl's error text to `errorBuffer` (at least `CURL_ERROR_SIZE` bytes), then runs the
    /// transfer on this thread. `onProgress`, when given, is called with `context` at least once
    /// a second even while no byte arrives; a non-zero return ends the transfer with
    /// `CURLE_ABORTED_BY_CALLBACK`.
    public static func perform(_ handle: UnsafeMutableRawPointer, headers: UnsafeMutablePointer<curl_slist>?,
                               onHeader: tandem_curl_data_callback, onData: tandem_curl_data_callback,
                               onProgress: tandem_curl_progress_callback? = nil,
                               context: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>?) -> CURLcode {
        if let onProgress {
            tandem_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            tandem_curl_setopt_progress(handle, CURLOPT_XFERINFOFUNCTION, onProgress)
            tandem_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        }
        tandem_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
        tandem_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        tandem_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, onHeader)
        tandem_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        tandem_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, onData)
        tandem_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        return curl_easy_perform(handle)
    }

    /// What went wrong, in libcurl's words: the error buffer's specific text, else the code's
    /// generic message.
    public static func detail(of code: CURLcode, errorText: [CChar]) -> String {
        let message = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard message.isEmpty else { return message }
        return String(validatingCString: curl_easy_strerror(code)) ?? "error \(code.rawValue)"
    }
}
