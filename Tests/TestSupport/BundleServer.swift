import Foundation

/// Tests/Scripts/bundle_server.py serving one file on 127.0.0.1, scripted to behave well or
/// badly. Stopped when released.
public final class BundleServer {
    public let port: Int
    public let log: String
    private let process: Process

    public var url: String { "http://127.0.0.1:\(port)/bundle" }
    public var httpsURL: String { "https://localhost:\(port)/bundle" }

    /// - Parameter arguments: extra server arguments, e.g. `["--mode", "drop", "--drop-after", "1048576"]`.
    public init(file: String, arguments: [String] = []) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/bundle_server.py").path
        log = file + ".requests-\(UUID().uuidString.prefix(6)).jsonl"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--file", file, "--log", log] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let port = Int(try output.readFirstLine()) else {
            kill(process.processIdentifier, SIGKILL)
            throw Shell.Failure(command: process.arguments ?? [], output: .init(status: -1, stdout: "", stderr: "server did not start"))
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's children may inherit an ignored SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: log)
    }

    /// The requests served so far: method, path, range and if_range, oldest first.
    public func requests() throws -> [[String: String]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return object.compactMapValues { $0 as? String }
        }
    }
}
