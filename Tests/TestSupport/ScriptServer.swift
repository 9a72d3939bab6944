import Foundation

/// A test server from Tests/Scripts (Python, standard library only) on 127.0.0.1: it prints its
/// port as its first line and logs every request as a JSON line. Stopped when released.
public final class ScriptServer {
    public let port: Int
    public let log: String
    private let process: Process

    /// - Parameters:
    ///   - script: the file name in Tests/Scripts.
    ///   - log: where the server writes its request log; removed with the server.
    public init(script: String, log: String, arguments: [String]) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/\(script)").path
        self.log = log
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path, "--log", log] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let port = Int(try output.readFirstLine()) else {
            kill(process.processIdentifier, SIGKILL)
            throw Shell.Failure(command: process.arguments ?? [], output: .init(status: -1, stdout: "", stderr: "\(script) did not start"))
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's children may inherit an ignored SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: log)
    }

    /// The logged requests, oldest first.
    public func requests() throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
    }
}
