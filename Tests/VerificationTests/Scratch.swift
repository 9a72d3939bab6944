import Foundation
import Testing
import TestSupport
import Verification

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
