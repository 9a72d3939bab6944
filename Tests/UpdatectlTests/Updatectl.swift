import Foundation
import TestSupport

/// The built `updatectl`, run as a user would run it.
enum Updatectl {
    static var path: String { BuiltExecutable.path("updatectl") }

    static func run(_ arguments: String...) throws -> Shell.Output {
        try Shell.capture([path] + arguments)
    }

    static func json(_ arguments: String...) throws -> [String: Any] {
        let output = try Shell.capture([path] + arguments)
        guard output.status == 0 else { throw Shell.Failure(command: arguments, output: output) }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
    }
}
