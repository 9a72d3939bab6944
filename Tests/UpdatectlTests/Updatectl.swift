import Foundation
import TestSupport

/// The built `updatectl`, run as a user would run it.
enum Updatectl {
    /// `swift build` puts executables beside the test bundle.
    static var path: String {
        if let override = ProcessInfo.processInfo.environment["TANDEM_UPDATECTL"] { return override }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("updatectl").path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("updatectl").path
    }

    static func run(_ arguments: String...) throws -> Shell.Output {
        try Shell.capture([path] + arguments)
    }

    static func json(_ arguments: String...) throws -> [String: Any] {
        let output = try Shell.capture([path] + arguments)
        guard output.status == 0 else { throw Shell.Failure(command: arguments, output: output) }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
    }
}
