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
}
