import Foundation

/// A temporary directory for one test, removed when released.
public final class Scratch {
    public let path: String
    public var url: URL { URL(fileURLWithPath: path) }

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String {
        path + "/" + name
    }

    @discardableResult
    public func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = file(name)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Writes `text` to `name` and returns the file's path.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> String {
        try write(Array(text.utf8), to: name)
    }

    public func read(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file(name))))
    }

    /// A file of `size` random bytes.
    @discardableResult
    public func randomFile(_ name: String, size: Int) throws -> String {
        var generator = SystemRandomNumberGenerator()
        return try write((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }, to: name)
    }

    /// The file names in the directory, for checking that nothing temporary is left behind.
    public var contents: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}
