import Foundation

/// The package's executables as `swift build` left them: beside the test bundle.
public enum BuiltExecutable {
    /// `TANDEM_<NAME>` (upper-cased) overrides, for running the tests against installed binaries.
    public static func path(_ name: String) -> String {
        if let override = ProcessInfo.processInfo.environment["TANDEM_" + name.uppercased()] { return override }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent(name).path
    }
}
