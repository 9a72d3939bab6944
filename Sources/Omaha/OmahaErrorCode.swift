/// The `errorcode` of an Omaha event: update_engine's `ActionExitCode` numbers, which Nebraska
/// stores and shows as they are, with update_engine's flags or'ed into the high bits.
public struct OmahaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let success = OmahaErrorCode(rawValue: 0)
    public static let error = OmahaErrorCode(rawValue: 1)
    public static let omahaRequestError = OmahaErrorCode(rawValue: 2)
    public static let omahaResponseHandlerError = OmahaErrorCode(rawValue: 3)
    public static let installDeviceOpenError = OmahaErrorCode(rawValue: 7)
    public static let downloadTransferError = OmahaErrorCode(rawValue: 9)
    public static let payloadHashMismatch = OmahaErrorCode(rawValue: 10)
    public static let payloadSizeMismatch = OmahaErrorCode(rawValue: 11)
    public static let downloadPayloadVerificationError = OmahaErrorCode(rawValue: 12)
    public static let downloadWriteError = OmahaErrorCode(rawValue: 14)
    public static let newRootfsVerificationError = OmahaErrorCode(rawValue: 15)
    public static let downloadStateInitializationError = OmahaErrorCode(rawValue: 20)
    public static let omahaRequestEmptyResponse = OmahaErrorCode(rawValue: 30)
    public static let omahaRequestXMLParseError = OmahaErrorCode(rawValue: 31)
    public static let omahaResponseInvalid = OmahaErrorCode(rawValue: 34)
    public static let omahaErrorInHTTPResponse = OmahaErrorCode(rawValue: 37)
    public static let omahaUpdateDeferredForBackoff = OmahaErrorCode(rawValue: 40)
    public static let rollbackError = OmahaErrorCode(rawValue: 44)

    /// A failed update check's HTTP status: `2000 + status`. update_engine sends 999 for any
    /// status outside 0...999 (including libcurl's -1 when there was no response at all), so
    /// that the code stays in its own range.
    public static func httpResponse(status: Int) -> OmahaErrorCode {
        let clamped = (0...999).contains(status) ? Int32(status) : 999
        return OmahaErrorCode(rawValue: 2000 + clamped)
    }

    /// The bits update_engine or's into every error code it reports (`GetErrorCodeFlags`).
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// The failed download had resumed an earlier one.
        public static let resumed = Flags(rawValue: 1 << 30)
        /// Not an official build.
        public static let testImage = Flags(rawValue: 1 << 29)
        /// The update server is not the production one.
        public static let testOmahaURL = Flags(rawValue: 1 << 28)

        static let all: Flags = [.resumed, .testImage, .testOmahaURL]
    }

    /// The code with `flags` added, as update_engine reports it: `code | flags`.
    public func adding(_ flags: Flags) -> OmahaErrorCode {
        OmahaErrorCode(rawValue: rawValue | flags.rawValue)
    }

    /// The flags in this code.
    public var flags: Flags {
        Flags(rawValue: rawValue).intersection(.all)
    }

    /// The code without its flags, which is what decides what went wrong.
    public var base: OmahaErrorCode {
        OmahaErrorCode(rawValue: rawValue & ~Flags.all.rawValue)
    }

    public var description: String {
        String(rawValue)
    }
}
