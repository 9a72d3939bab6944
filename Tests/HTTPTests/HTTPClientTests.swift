import Foundation
import HTTP
import Testing
import TestSupport

/// HTTPClient against a small Python server started by each test.
@Suite struct HTTPClientTests {
    /// Python's http.server on 127.0.0.1, answering:
    /// `/status/N` with status N; `/echo` with the request as JSON (method, headers, body);
    /// `/bytes/N` with N bytes; `/slow` with a body that trickles out over 10 s.
    final class EchoServer {
        let process = Process()
        let port: Int
        var base: String { "http://127.0.0.1:\(port)" }

        static let script = #"""
        import base64, json, sys, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *_): pass
            def answer(self, status, body, content_type="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("X-Echo", "first")
                self.send_header("X-Echo", "second")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def handle_any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/status/"):
                    code = int(self.path.split("/")[2])
                    return self.answer(code, ("status %d" % code).encode())
                if self.path == "/echo":
                    echo = {"method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": base64.b64encode(body).decode()}
                    return self.answer(200, json.dumps(echo).encode(), "application/json")
                if self.path.startswith("/bytes/"):
                    return self.answer(200, b"x" * int(self.path.split("/")[2]))
                if self.path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Length", "10")
                    self.end_headers()
                    for _ in range(10):
                        self.wfile.write(b"x"); self.wfile.flush(); time.sleep(1)
                    return
                self.answer(404, b"no such path")
            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

        init() throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", EchoServer.script]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            guard let port = Int(try output.readFirstLine()) else {
                kill(process.processIdentifier, SIGKILL)
                throw Shell.Failure(command: ["python3"], output: .init(status: -1, stdout: "", stderr: "the echo server did not start"))
            }
            self.port = port
        }

        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
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
        let response = try HTTPClient(options: HTTPClientOptions(followRedirects: false)).perform(HTTPRequest(.get, server.base + "/status/\(status)"))
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
        let client = HTTPClient(options: HTTPClientOptions(responseLimit: 1000))
        #expect(try client.perform(HTTPRequest(.get, server.base + "/bytes/1000")).body.count == 1000)
        #expect(throws: HTTPClientError.tooLarge(url: server.base + "/bytes/1001", limit: 1000)) {
            try client.perform(HTTPRequest(.get, server.base + "/bytes/1001"))
        }
    }

    @Test func aSlowServerTimesOut() throws {
        let server = try EchoServer()
        let client = HTTPClient(options: HTTPClientOptions(timeoutSeconds: 1))
        let started = Date()
        #expect(throws: HTTPClientError.timedOut(url: server.base + "/slow", seconds: 1)) {
            try client.perform(HTTPRequest(.get, server.base + "/slow"))
        }
        #expect(Date().timeIntervalSince(started) < 5)
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
