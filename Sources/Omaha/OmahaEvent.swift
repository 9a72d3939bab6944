/// What an event reports, update_engine's `OmahaEvent::Type` numbers.
public enum OmahaEventType: Int32, Sendable, CaseIterable {
    case unknown = 0
    case downloadComplete = 1
    case installComplete = 2
    case updateComplete = 3
    case updateDownloadStarted = 13
    case updateDownloadFinished = 14
}

/// How the reported step ended, update_engine's `OmahaEvent::Result` numbers.
public enum OmahaEventResult: Int32, Sendable, CaseIterable {
    case error = 0
    case success = 1
    case successReboot = 2
    case updateDeferred = 9
}

/// One `<event>`: a step of an update, reported to the server so that it can follow the rollout.
public struct OmahaEvent: Hashable, Sendable {
    public var type: OmahaEventType
    public var result: OmahaEventResult
    /// Sent only when the result is not `.success`, as update_engine does.
    public var errorCode: OmahaErrorCode

    public init(type: OmahaEventType, result: OmahaEventResult, errorCode: OmahaErrorCode = .success) {
        self.type = type
        self.result = result
        self.errorCode = errorCode
    }

    /// 13/1: the payload download started (Nebraska: "Downloading").
    public static let downloadStarted = OmahaEvent(type: .updateDownloadStarted, result: .success)
    /// 14/1: the payload is downloaded (Nebraska: "Downloaded").
    public static let downloadFinished = OmahaEvent(type: .updateDownloadFinished, result: .success)
    /// 3/1: the update is installed and waits for a reboot.
    public static let installed = OmahaEvent(type: .updateComplete, result: .success)

    /// 3/0: the update failed with `code` (flags included).
    public static func failed(_ code: OmahaErrorCode) -> OmahaEvent {
        OmahaEvent(type: .updateComplete, result: .error, errorCode: code)
    }
}
