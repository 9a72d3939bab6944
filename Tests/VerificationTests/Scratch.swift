import Foundation
import Testing
import TestSupport
import Verification

/// A temporary directory for one test, removed when released.
final class Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-verification-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String {
        path + "/" + name
    }

    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = file(name)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func read(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file(name))))
    }

    /// A file of `size` random bytes.
    @discardableResult
    func randomFile(_ name: String, size: Int) throws -> String {
        var generator = SystemRandomNumberGenerator()
        return try write((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }, to: name)
    }

    /// The file names in the directory, for checking that nothing temporary is left behind.
    var contents: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}

/// The `openssl` command-line tool, an independent oracle for keys, signatures and digests.
enum OpenSSLTool {
    /// Cancels the test when openssl is missing, unless TANDEM_REQUIRE_INTEGRATION=1 (as in `Integration`).
    static func require() throws {
        if Shell.which("openssl") { return }
        if Integration.required {
            throw MissingTool(description: "openssl is missing, and TANDEM_REQUIRE_INTEGRATION=1 forbids skipping")
        }
        try Test.cancel("skipped: openssl is missing (make deps installs it)")
    }

    @discardableResult
    static func run(_ arguments: String...) throws -> String {
        try Shell.run(["openssl"] + arguments)
    }

    /// SHA-256 of a file as `openssl dgst` computes it, as bytes.
    static func sha256(of path: String) throws -> [UInt8] {
        let line = try run("dgst", "-sha256", "-r", path)
        return try #require(bytes(fromHex: String(line.prefix(64))))
    }
}

struct MissingTool: Error, CustomStringConvertible {
    var description: String
}

/// A manifest with fixed fields, for tests that need one.
func sampleManifest(imageSize: UInt64 = 1_048_576, minimumVersion: String? = nil) -> Manifest {
    Manifest(version: "3975.2.1", compatible: "flatcar-amd64", imageSize: imageSize,
             imageSHA256: [UInt8](repeating: 0xAB, count: 32), created: "2026-11-21T19:00:00Z", minimumVersion: minimumVersion)
}
