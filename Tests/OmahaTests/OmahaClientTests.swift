import Foundation
import Omaha
import TestSupport
import Testing

/// `OmahaClient` over libcurl against the scripted server: what each kind of server behaviour
/// becomes, with update_engine's error code for it.
@Suite struct OmahaClientTests {
    static func client(_ server: OmahaServer, timeout: Int = 10) -> OmahaClient {
        OmahaClient(server: server.url.absoluteString, connectTimeoutSeconds: 5, timeoutSeconds: timeout)
    }

    static let check = RequestTests.request(.updateCheck(previousVersion: "4459.0.0"))

    @Test func postsTheRequestAsTextXMLAndReadsTheOffer() throws {
        let server = try OmahaServerTests.start("ok")
        guard case let .update(update) = try Self.client(server).check(Self.check) else {
            Issue.record("no update offered")
            return
        }
        #expect(update.version == "4500.0.0" && update.sha256 == OmahaServerTests.digest)
        try Self.client(server).send(RequestTests.request(.event(.downloadStarted)))
        let logged = try server.requests()
        #expect(logged.map { $0["content_type"] as? String } == ["text/xml", "text/xml"])
        #expect(logged.first?["body"] as? String == String(decoding: Self.check.xml(), as: UTF8.self), "byte for byte")
        #expect(logged.last?["events"] as? [[String: String]] == [["eventtype": "13", "eventresult": "1"]])
    }

    @Test func nebraskaRefusalsAndNoUpdateAreAnswersNotErrors() throws {
        let quiet = try OmahaServerTests.start("noupdate"), refusing = try OmahaServerTests.start("nebraska-error")
        #expect(try Self.client(quiet).check(Self.check) == .noUpdate(pollInterval: nil))
        #expect(try Self.client(refusing).check(Self.check)
            == .backOff(reason: OmahaRefusal(status: "error-updatesDisabled"), pollInterval: nil))
    }

    @Test func anHTTPErrorIsTwoThousandPlusItsStatus() throws {
        let server = try OmahaServer(arguments: ["--mode", "http-error", "--status", "503"])
        do {
            _ = try Self.client(server).check(Self.check)
            Issue.record("a 503 was taken for an answer")
        } catch {
            #expect(error.code == OmahaErrorCode(rawValue: 2503) && error.httpStatus == 503)
            #expect(error.description.contains("HTTP 503") && error.description.contains("the server is having a bad day"), "\(error)")
        }
    }

    @Test func malformedAndHugeBodiesAreRefusedWithUpdateEnginesCodes() throws {
        let malformed = try OmahaServerTests.start("malformed"), huge = try OmahaServerTests.start("huge")
        do {
            _ = try Self.client(malformed).check(Self.check)
            Issue.record("half a document was read")
        } catch {
            #expect(error.code == .omahaRequestXMLParseError, "\(error)")
        }
        do {
            _ = try Self.client(huge).check(Self.check)
            Issue.record("2 MiB of XML was read")
        } catch {
            #expect(error.code == .omahaRequestXMLParseError)
            #expect(error.description.contains("more than the 1048576 any Omaha response needs"), "\(error)")
        }
    }

    @Test func aSlowBodyIsWaitedForWithinTheTimeoutAndAbandonedPastIt() throws {
        let patient = try OmahaServer(arguments: ["--mode", "slow", "--drip-seconds", "1", "--version", "4500.0.0",
                                                  "--url", "http://127.0.0.1:9/", "--size", "10"])
        guard case .update = try Self.client(patient, timeout: 10).check(Self.check) else {
            Issue.record("the dripped offer was not read")
            return
        }
        let stuck = try OmahaServer(arguments: ["--mode", "slow", "--drip-seconds", "30"])
        let started = Date()
        do {
            _ = try Self.client(stuck, timeout: 2).check(Self.check)
            Issue.record("a 30 s drip was waited for")
        } catch {
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(error.code == .httpResponse(status: 0), "no response at all: 2000, as update_engine")
            #expect(error.description.contains("did not answer completely within 2 s"), "\(error)")
        }
    }

    @Test func anUnreachableServerSaysSo() throws {
        let client = OmahaClient(server: "http://127.0.0.1:1/v1/update/", connectTimeoutSeconds: 2, timeoutSeconds: 2)
        do {
            _ = try client.check(Self.check)
            Issue.record("port 1 answered")
        } catch {
            #expect(error.code == OmahaErrorCode(rawValue: 2000))
            #expect(error.description.contains("refused the connection"), "\(error)")
        }
    }
}
