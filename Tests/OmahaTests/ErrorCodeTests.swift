import Omaha
import Testing

@Suite struct ErrorCodeTests {
    @Test func numbersAreUpdateEngines() {
        let expected: [(OmahaErrorCode, Int32)] = [
            (.success, 0), (.error, 1), (.omahaRequestError, 2), (.omahaResponseHandlerError, 3),
            (.installDeviceOpenError, 7), (.downloadTransferError, 9), (.payloadHashMismatch, 10),
            (.payloadSizeMismatch, 11), (.downloadPayloadVerificationError, 12), (.downloadWriteError, 14),
            (.newRootfsVerificationError, 15), (.downloadStateInitializationError, 20),
            (.omahaRequestEmptyResponse, 30), (.omahaRequestXMLParseError, 31), (.omahaResponseInvalid, 34),
            (.omahaErrorInHTTPResponse, 37), (.omahaUpdateDeferredForBackoff, 40), (.rollbackError, 44),
        ]
        for (code, number) in expected {
            #expect(code.rawValue == number)
        }
        #expect(OmahaEventType.allCases.map(\.rawValue) == [0, 1, 2, 3, 13, 14])
        #expect(OmahaEventResult.allCases.map(\.rawValue) == [0, 1, 2, 9])
    }

    @Test func httpStatusIsAddedTo2000AndClamped() {
        #expect(OmahaErrorCode.httpResponse(status: 404).rawValue == 2404)
        #expect(OmahaErrorCode.httpResponse(status: 500).rawValue == 2500)
        #expect(OmahaErrorCode.httpResponse(status: 0).rawValue == 2000)
        #expect(OmahaErrorCode.httpResponse(status: 999).rawValue == 2999)
        #expect(OmahaErrorCode.httpResponse(status: 1000).rawValue == 2999)
        #expect(OmahaErrorCode.httpResponse(status: -1).rawValue == 2999)
        #expect(OmahaErrorCode.httpResponse(status: .max).rawValue == 2999)
    }

    @Test func flagsAreOredIntoTheHighBits() {
        #expect(OmahaErrorCode.Flags.resumed.rawValue == 1 << 30)
        #expect(OmahaErrorCode.Flags.testImage.rawValue == 1 << 29)
        #expect(OmahaErrorCode.Flags.testOmahaURL.rawValue == 1 << 28)

        let code = OmahaErrorCode.downloadTransferError.adding([.resumed, .testImage, .testOmahaURL])
        #expect(code.rawValue == 9 | 1 << 30 | 1 << 29 | 1 << 28)
        #expect(code.base == .downloadTransferError)
        #expect(code.flags == [.resumed, .testImage, .testOmahaURL])
        #expect(code.description == "1879048201")

        let http = OmahaErrorCode.httpResponse(status: 503).adding(.testOmahaURL)
        #expect(http.rawValue == 2503 | 1 << 28)
        #expect(http.base.rawValue == 2503)
        #expect(OmahaErrorCode.payloadHashMismatch.adding([]).rawValue == 10)
        #expect(OmahaErrorCode.success.flags.isEmpty)
    }
}
