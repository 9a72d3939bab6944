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

    /// The requests served so far: method, path, range and if_range, oldest first.
    public func requests() throws -> [[String: String]] {
        try server.requests().map { $0.compactMapValues { $0 as? String } }
    }
}
