import Foundation

/// Runs external tools (sgdisk, sfdisk, losetup, the built updatectl) for tests.
public enum Shell {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var output: Output

        public init(command: [String], output: Output) {
            self.command = command
            self.output = output
        }
        public var description: String {
            "\(command.joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)"
        }
    }

    /// Runs `arguments` (the first is looked up on PATH) and returns what it printed,
    /// whatever its exit status.
    @discardableResult
    public static func capture(_ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain stderr on another thread while reading stdout, so a chatty tool cannot block
        // on a full pipe.
        let errorsRead = DispatchGroup()
        nonisolated(unsafe) var errors = Data()
        DispatchQueue.global().async(group: errorsRead) {
            errors = stderr.fileHandleForReading.readDataToEndOfFile()
        }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: outputData, as: UTF8.self),
                      stderr: String(decoding: errors, as: UTF8.self))
    }

    /// Runs `arguments` and throws unless it exits 0.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> String {
        let output = try capture(arguments)
        guard output.status == 0 else { throw Failure(command: arguments, output: output) }
        return output.stdout
    }

    public static func which(_ tool: String) -> Bool {
        (try? capture(["sh", "-c", "command -v \(tool)"]).status) == 0
    }
}
