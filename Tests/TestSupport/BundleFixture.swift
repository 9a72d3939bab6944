import Foundation
import Verification

/// Signing keys, a trusted-key directory and signed bundles of random images, for tests.
public final class BundleFixture {
    public let directory: URL
    public let key: SigningKey
    public let keysDirectory: String
    public static let compatible = "tandem-test"

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-bundles-\(UUID().uuidString.prefix(8))")
        keysDirectory = directory.appendingPathComponent("keys.d").path
        try FileManager.default.createDirectory(atPath: keysDirectory, withIntermediateDirectories: true)
        key = try SigningKey.generate(.ed25519)
        try Data(key.publicKeyPEM()).write(to: URL(fileURLWithPath: keysDirectory + "/test.pem"))
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    public func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// A file of `size` random bytes.
    public func randomImage(_ name: String, size: Int) throws -> String {
        let path = path(name)
        try Shell.run(["sh", "-c", "head -c \(size) /dev/urandom > '\(path)'"])
        return path
    }

    /// A bundle of `image` signed with `key` (the fixture's key by default).
    @discardableResult
    public func bundle(_ name: String, image: String, version: String = "2.0.0", compatible: String = BundleFixture.compatible,
                       minimumVersion: String? = nil, artifacts: [BundleArtifact.Kind: String] = [:],
                       keys: [SigningKey]? = nil, chunkSize: UInt64? = ChunkLayout.defaultChunkSize) throws -> String {
        let output = path(name)
        try BundleWriter.create(image: image, version: version, compatible: compatible, minimumVersion: minimumVersion,
                                artifacts: artifacts, chunkSize: chunkSize, keys: keys ?? [key], output: output)
        return output
    }

    public var trust: TrustStore {
        get throws { try TrustStore(directories: [keysDirectory]) }
    }
}
