import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Omaha
import TestSupport
import Testing

/// Tests/Scripts/omaha_server.py on 127.0.0.1, in one mode. Stopped when released.
final class OmahaServer {
    private let server: ScriptServer
    var port: Int { server.port }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/v1/update/")! }

    init(arguments: [String]) throws {
        server = try ScriptServer(
            script: "omaha_server.py",
            log: FileManager.default.temporaryDirectory.appendingPathComponent("omaha-\(UUID().uuidString).jsonl").path,
            arguments: arguments)
    }

    func post(_ request: OmahaRequest) async throws -> (status: Int, body: [UInt8]) {
        var post = URLRequest(url: url)
        post.httpMethod = "POST"
        post.setValue("text/xml", forHTTPHeaderField: "Content-Type")
        post.httpBody = Data(request.xml())
        let (data, response) = try await URLSession.shared.data(for: post)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, [UInt8](data))
    }

    /// The logged requests, oldest first.
    func requests() throws -> [[String: Any]] {
        try server.requests()
    }
}

@Suite struct OmahaServerTests {
    static let digest = [UInt8](repeating: 0x5A, count: 32)

    static func start(_ mode: String) throws -> OmahaServer {
        try OmahaServer(arguments: ["--mode", mode, "--version", "4500.0.0", "--url", "http://127.0.0.1:9/bundles",
                                    "--name", "tandem.bundle", "--size", "1048576",
                                    "--sha256-b64", Data(digest).base64EncodedString()])
    }

    @Test func answersWhatOmahaRequestAsksAndOmahaResponseReads() async throws {
        let server = try Self.start("ok")
        let (status, body) = try await server.post(RequestTests.request(.updateCheck(previousVersion: "4459.0.0")))
        #expect(status == 200)
        let expected = OmahaUpdate(
            appID: "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}", version: "4500.0.0",
            urls: ["http://127.0.0.1:9/bundles/tandem.bundle"], packageName: "tandem.bundle", size: 1_048_576,
            sha256: Self.digest, pollInterval: nil, maxFailureCountPerURL: 10, disablePayloadBackoff: true)
        #expect(try OmahaResponse.parse(body) == .update(expected))

        let (_, eventBody) = try await server.post(RequestTests.request(.event(.failed(.payloadHashMismatch))))
        #expect(String(decoding: eventBody, as: UTF8.self).contains("<event status=\"ok\"/>"))

        let logged = try server.requests()
        #expect(logged.count == 2)
        #expect(logged.first?["content_type"] as? String == "text/xml")
        #expect(logged.first?["body"] as? String == String(decoding: RequestTests.request(.updateCheck(previousVersion: "4459.0.0")).xml(), as: UTF8.self))
        #expect(logged.first?["updatecheck"] as? Bool == true)
        #expect(logged.last?["events"] as? [[String: String]] == [["eventtype": "3", "eventresult": "0", "errorcode": "10"]])
    }

    @Test func scriptedMisbehaviour() async throws {
        let check = RequestTests.request(.updateCheck(previousVersion: ""))
        let noUpdate = try await Self.start("noupdate").post(check).body
        #expect(try OmahaResponse.parse(noUpdate) == .noUpdate(pollInterval: nil))
        let refused = try await Self.start("nebraska-error").post(check).body
        #expect(try OmahaResponse.parse(refused) == .backOff(reason: OmahaRefusal(status: "error-updatesDisabled"), pollInterval: nil))
        let wrongSize = try await Self.start("wrong-size").post(check).body
        guard case let .update(update) = try OmahaResponse.parse(wrongSize) else { Issue.record("no update"); return }
        #expect(update.size == 1_048_577)
        let malformed = try await Self.start("malformed").post(check).body
        #expect(throws: OmahaError.self) { try OmahaResponse.parse(malformed) }
        let huge = try await Self.start("huge").post(check).body
        #expect(huge.count > OmahaResponse.sizeLimit)
        #expect(throws: OmahaError.tooLarge(size: huge.count, limit: OmahaResponse.sizeLimit)) { try OmahaResponse.parse(huge) }
    }
}
