/// How downloads behave. Every value has a production default.
public struct HTTPOptions: Sendable, Equatable {
    /// Extra trusted CA certificates (PEM), in addition to the system's.
    public var caBundle: String?
    public var connectTimeoutSeconds: Int
    /// A transfer slower than `lowSpeedBytesPerSecond` for `lowSpeedSeconds` is abandoned and retried.
    public var lowSpeedBytesPerSecond: Int
    public var lowSpeedSeconds: Int
    /// Attempts after the first, each resuming where the last stopped.
    public var retries: Int
    public var initialRetryDelaySeconds: Double
    public var maximumRetryDelaySeconds: Double

    public init(caBundle: String? = nil, connectTimeoutSeconds: Int = 30, lowSpeedBytesPerSecond: Int = 1024,
                lowSpeedSeconds: Int = 60, retries: Int = 5, initialRetryDelaySeconds: Double = 1,
                maximumRetryDelaySeconds: Double = 60) {
        self.caBundle = caBundle
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
        self.lowSpeedSeconds = lowSpeedSeconds
        self.retries = retries
        self.initialRetryDelaySeconds = initialRetryDelaySeconds
        self.maximumRetryDelaySeconds = maximumRetryDelaySeconds
    }

    /// Exponential backoff: the delay before retry `attempt` (1-based).
    func retryDelay(attempt: Int) -> Double {
        min(maximumRetryDelaySeconds, initialRetryDelaySeconds * Double(1 << min(attempt - 1, 20)))
    }
}
