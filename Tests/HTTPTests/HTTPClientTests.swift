import Foundation
import HTTP
import Testing
import TestSupport

/// HTTPClient against a small Python server started by each test.
@Suite struct HTTPClientTests {
    /// Tests/Scripts/echo_server.py on 127.0.0.1: `/status/N`, `/echo`, `/bytes/N`, `/slow`.
    final class EchoServer {
        private let server: ScriptServer
        var port: Int { server.port }
        var base: String { "http://127.0.0.1:\(port)" }

        init() throws {
            server = try ScriptServer(script: "echo_server.py",
                                      log: FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UUID().uuidString).log").path,
                                      arguments: [])
        }
    }

    struct Echo: Decodable {
        var method: String
        var headers: [String: String]
        var body: String
    }

    @Test(arguments: [200, 204, 301, 404, 423, 500, 503])
    func everyStatusIsReturnedNotThrown(status: Int) throws {
        let server = try EchoServer()
        let response = try HTTPClient(options: HTTPOptions(followRedirects: false)).perform(HTTPRequest(.get, server.base + "/status/\(status)"))
        #expect(response.status == status)
        #expect(response.isSuccess == (200..<300).contains(status))
        if status != 204 { #expect(response.text == "status \(status)") }
        #expect(response.headers["content-type"] == "text/plain")
        // Of a header sent twice, the last value.
        #expect(response.headers["x-echo"] == "second")
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .delete])
    func bodiesAndHeadersArriveIntact(method: HTTPRequest.Method) throws {
        let server = try EchoServer()
        // Every byte value, and more than 1 KiB, where libcurl would otherwise ask for "100 Continue".
        let body = (0..<4096).map { UInt8($0 % 256) }
        let response = try HTTPClient().perform(HTTPRequest(method, server.base + "/echo", headers: [
            HTTPHeader("Content-Type", "application/octet-stream"),
            HTTPHeader("fleet-lock-protocol", "true"),
        ], body: body))
        #expect(response.status == 200)
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == method.rawValue)
        #expect(Data(base64Encoded: echo.body).map(Array.init) == body)
        #expect(echo.headers["content-type"] == "application/octet-stream")
        #expect(echo.headers["fleet-lock-protocol"] == "true")
        #expect(echo.headers["content-length"] == "4096")
        #expect(echo.headers["expect"] == nil)
        #expect(echo.headers["user-agent"] == "tandem/1")
    }

    @Test func anEmptyPostSendsAnEmptyBody() throws {
        let server = try EchoServer()
        let response = try HTTPClient().perform(HTTPRequest(.post, server.base + "/echo"))
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "POST" && echo.body.isEmpty && echo.headers["content-length"] == "0")
    }

    @Test func aResponseOverTheLimitIsRefused() throws {
        let server = try EchoServer()
        let client = HTTPClient(options: HTTPOptions(responseLimit: 1000))
        #expect(try client.perform(HTTPRequest(.get, server.base + "/bytes/1000")).body.count == 1000)
        #expect(throws: HTTPClientError.tooLarge(url: server.base + "/bytes/1001", limit: 1000)) {
            try client.perform(HTTPRequest(.get, server.base + "/bytes/1001"))
        }
    }

    @Test func aSlowServerTimesOut() throws {
        let server = try EchoServer()
        let client = HTTPClient(options: HTTPOptions(timeoutSeconds: 1))
        let started = Date()
        #expect(throws: HTTPClientError.timedOut(url: server.base + "/slow", seconds: 1)) {
            try client.perform(HTTPRequest(.get, server.base + "/slow"))
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    /// A server that stops sending halfway holds an exchange until its timeout (here 300 s);
    /// the cancellation ends it at once, through libcurl's progress callback.
    @Test func aCancelEndsAnExchangeInFlight() throws {
        let scratch = try Scratch()
        let server = try BundleServer(file: try scratch.randomFile("body", size: 64 << 10), arguments: ["--pause-at", "1000"])
        let signal = CancellationSignal()
        let client = HTTPClient(options: HTTPOptions(timeoutSeconds: 300), cancellation: signal)
        let outcome = Mailbox<Result<HTTPResponse, HTTPClientError>>()
        let url = server.url
        Thread { outcome.set(Result { () throws(HTTPClientError) in try client.perform(HTTPRequest(.get, url)) }) }.start()
        #expect(DaemonHarness.eventually(timeout: 30) { ((try? server.requests().count) ?? 0) == 1 })
        let cancelled = Date()
        signal.cancel()
        let result = try #require(outcome.wait(timeout: 30), "the exchange did not end after the cancel")
        #expect(Date().timeIntervalSince(cancelled) < 2)
        #expect(throws: HTTPClientError.cancelled(url: server.url)) { try result.get() }
        // Raised, it stays raised: the next exchange does not start.
        #expect(throws: HTTPClientError.cancelled(url: server.url)) { try client.perform(HTTPRequest(.get, server.url)) }
        #expect(try server.requests().count == 1)
    }

    /// A download that receives less than the low-speed limit for its time is ended with an error
    /// that names the URL and the limit, not a generic network failure.
    @Test func aStalledDownloadSaysSo() throws {
        let scratch = try Scratch()
        let server = try BundleServer(file: try scratch.randomFile("body", size: 64 << 10), arguments: ["--pause-at", "1000"])
        let download = HTTPDownload(url: server.url, options: HTTPOptions(lowSpeedBytesPerSecond: 1024, lowSpeedSeconds: 1),
                                    cancellation: nil)
        let started = Date()
        #expect(throws: HTTPClientError.stalled(url: server.url, bytesPerSecond: 1024, seconds: 1)) {
            _ = try download.get(from: 0, to: nil, ifRange: nil, validate: { _ in }, sink: { _ in })
        }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect("\(HTTPClientError.stalled(url: server.url, bytesPerSecond: 1024, seconds: 1))".contains(server.url))
    }

    @Test func aRefusedConnectionSaysSo() throws {
        let url = "http://127.0.0.1:\(try Etcd.freePort())/"
        #expect {
            try HTTPClient().perform(HTTPRequest(.get, url))
        } throws: { error in
            guard case .refused(url, _) = error as? HTTPClientError else { return false }
            return "\(error)".contains("refused the connection") && "\(error)".contains(url)
        }
    }

    @Test func onlyHTTPAndHTTPSAreFetched() {
        #expect(throws: HTTPClientError.unsupportedURL("file:///etc/passwd")) {
            try HTTPClient().perform(HTTPRequest(.get, "file:///etc/passwd"))
        }
    }
}
