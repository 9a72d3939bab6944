/// How an exchange behaves. Every value has a production default.
public struct HTTPClientOptions: Sendable, Equatable {
    /// Extra trusted CA certificates (PEM), in addition to the system's.
    public var caBundle: String?
    /// A client certificate and its key (PEM), for servers that authenticate clients (etcd).
    public var clientCertificate: String?
    public var clientKey: String?
    public var connectTimeoutSeconds: Int
    /// The whole exchange, a slow body included, must end within this.
    public var timeoutSeconds: Int
    /// A larger response body is refused as soon as it grows past this.
    public var responseLimit: Int
    /// Whether to follow redirects (http and https only, at most 5).
    public var followRedirects: Bool

    public init(caBundle: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
                connectTimeoutSeconds: Int = 30, timeoutSeconds: Int = 60, responseLimit: Int = 1 << 20,
                followRedirects: Bool = true) {
        self.caBundle = caBundle
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.timeoutSeconds = timeoutSeconds
        self.responseLimit = responseLimit
        self.followRedirects = followRedirects
    }
}
