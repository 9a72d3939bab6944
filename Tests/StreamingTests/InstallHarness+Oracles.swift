import Foundation
import Streaming
import Testing
import TestSupport

/// Independent judges for the payload and staging tests: openssl for digests, stat for sizes,
/// cmp for slot bytes.
extension InstallHarness {
    /// The whole file's SHA-256 as an Omaha server would state it: `openssl dgst -sha256 -binary | base64`.
    static func opensslBase64Digest(_ path: String) throws -> String {
        try Shell.run(["sh", "-c", "openssl dgst -sha256 -binary '\(path)' | base64"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func fileSize(_ path: String) throws -> UInt64 {
        try #require(UInt64(try Shell.run(["stat", "-c", "%s", path]).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// What an update server would announce for `bundle`, computed by the tools above.
    static func announced(_ bundle: String) throws -> (expectation: PayloadExpectation, base64: String) {
        let base64 = try opensslBase64Digest(bundle)
        let digest = try #require(Data(base64Encoded: base64))
        return (PayloadExpectation(size: try fileSize(bundle), sha256: Array(digest)), base64)
    }

    /// Whether slot B starts with exactly the bytes of `image`, by `cmp`.
    func slotBHolds(_ image: String) throws -> Bool {
        let offset = try offset(ofPartition: 4)
        let size = try Self.fileSize(image)
        return try Shell.capture(["cmp", "-i", "0:\(offset)", "-n", "\(size)", image, disk.path]).status == 0
    }

    var checkpointExists: Bool {
        FileManager.default.fileExists(atPath: stateDirectory + "/checkpoint.json")
    }
}
