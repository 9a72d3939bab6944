import Foundation

/// Tests/Scripts/bundle_server.py serving one file on 127.0.0.1, scripted to behave well or
/// badly. Stopped when released.
public final class BundleServer {
    private let server: ScriptServer
    /// The file served.
    public let file: String
    public var port: Int { server.port }
    public var log: String { server.log }

    public var url: String { "http://127.0.0.1:\(port)/bundle" }
    public var httpsURL: String { "https://localhost:\(port)/bundle" }

    /// - Parameter arguments: extra server arguments, e.g. `["--mode", "drop", "--drop-after", "1048576"]`.
    public init(file: String, arguments: [String] = []) throws {
        self.file = file
        server = try ScriptServer(script: "bundle_server.py", log: file + ".requests-\(UUID().uuidString.prefix(6)).jsonl",
                                  arguments: ["--file", file] + arguments)
    }

    /// Every request's log entry as the server wrote it, with its `ranges` (how many were asked
    /// for), `status`, `bytes` (body bytes sent) and `done`; once every response has ended
    /// (polled for up to 10 s: the server writes the entry after the client has the bytes).
    public func finishedExchanges() throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let entries = try server.requests()
            if entries.allSatisfy({ $0["done"] as? Bool == true }) || Date() > deadline { return entries }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Body bytes the server sent, over every finished response.
    public func bytesSent() throws -> Int {
        try finishedExchanges().reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) }
    }

    /// Whether a response is under way (or paused at `--pause-at`) with bytes already sent.
    public func isSending() throws -> Bool {
        try server.requests().contains { $0["done"] as? Bool == false && ($0["bytes"] as? Int ?? 0) > 0 }
    }

    /// The requests served so far: method, path, range and if_range, oldest first.
    public func requests() throws -> [[String: String]] {
        try server.requests().map { $0.compactMapValues { $0 as? String } }
    }
}
