/// How Tandem's HTTP transfers behave, exchanges and downloads alike: one set of transport and
/// trust settings, and what applies to each kind. Every value has a production default.
public struct HTTPOptions: Sendable, Equatable {
    /// Extra trusted CA certificates (PEM), in addition to the system's.
    public var caBundle: String?
    /// A client certificate and its key (PEM), for servers that authenticate clients (etcd).
    public var clientCertificate: String?
    public var clientKey: String?
    public var connectTimeoutSeconds: Int
    /// An exchange, a slow body included, must end within this. A download has no total limit
    /// (an image may take hours on a slow link): the low-speed limit ends a stuck one instead.
    public var timeoutSeconds: Int
    /// A larger exchange response body is refused as soon as it grows past this.
    public var responseLimit: Int
    /// Whether an exchange follows redirects (http and https only, at most 5); downloads always do.
    public var followRedirects: Bool
    /// A download slower than `lowSpeedBytesPerSecond` for `lowSpeedSeconds` is abandoned and retried.
    public var lowSpeedBytesPerSecond: Int
    public var lowSpeedSeconds: Int
    /// Download attempts after the first, each resuming where the last stopped.
    public var retries: Int
    public var initialRetryDelaySeconds: Double
    public var maximumRetryDelaySeconds: Double

    public init(caBundle: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
                connectTimeoutSeconds: Int = 30, timeoutSeconds: Int = 60, responseLimit: Int = 1 << 20,
                followRedirects: Bool = true, lowSpeedBytesPerSecond: Int = 1024, lowSpeedSeconds: Int = 60,
                retries: Int = 5, initialRetryDelaySeconds: Double = 1, maximumRetryDelaySeconds: Double = 60) {
        self.caBundle = caBundle
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.timeoutSeconds = timeoutSeconds
        self.responseLimit = responseLimit
        self.followRedirects = followRedirects
        self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
        self.lowSpeedSeconds = lowSpeedSeconds
        self.retries = retries
        self.initialRetryDelaySeconds = initialRetryDelaySeconds
        self.maximumRetryDelaySeconds = maximumRetryDelaySeconds
    }

    /// Exponential backoff: the delay before download retry `attempt` (1-based).
    public func retryDelay(attempt: Int) -> Double {
        min(maximumRetryDelaySeconds, initialRetryDelaySeconds * Double(1 << min(max(attempt, 1) - 1, 20)))
    }
}
