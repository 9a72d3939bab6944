import Verification

/// What `updatectl image inspect` prints. The JSON form is a stable interface (schema
/// `tandem.bundle/1`, documented in docs/cli-json.md): fields are only ever added.
struct BundleReport: Encodable {
    struct Header: Encodable {
        var formatVersion: UInt32
        var manifestLength: Int
        var signaturesLength: Int
        var imageOffset: UInt64
        var imageLength: UInt64
        /// Added with format version 2; 0 for a bundle without boot artifacts.
        var artifactsLength: UInt64
        /// Added with format version 3: where the chunk table lies; absent before.
        var tableOffset: UInt64?
        var tableLength: UInt64?
    }

    /// Format 3: how the image is cut (docs/bundle-format.md).
    struct ChunkingInfo: Encodable {
        var chunkSize: UInt64
        var chunks: Int
        var blockSize: UInt64
        var blocks: UInt64
        var tableSHA256: String
    }

    struct ArtifactInfo: Encodable {
        var kind: String
        var offset: UInt64
        var size: UInt64
        var sha256: String
    }

    struct ManifestInfo: Encodable {
        var version: String
        var compatible: String
        var created: String
        var imageSize: UInt64
        var imageSHA256: String
        var minVersion: String?
        /// Boot artifacts after the image, in bundle order; empty for format 1.
        var artifacts: [ArtifactInfo]
        /// Format 3 only.
        var chunking: ChunkingInfo?
    }

    struct SignatureInfo: Encodable {
        var keyID: String
        var algorithm: String
        var length: Int
    }

    var schema = "tandem.bundle/1"
    var path: String
    var header: Header
    var manifest: ManifestInfo
    var signatures: [SignatureInfo]
    /// The manifest exactly as signed, for the text form.
    private var manifestText: String

    private enum CodingKeys: String, CodingKey {
        case schema, path, header, manifest, signatures
    }

    init(path: String, preamble: BundlePreamble) {
        self.path = path
        let header = preamble.header, manifest = preamble.manifest
        self.header = Header(formatVersion: header.formatVersion, manifestLength: header.manifestLength,
                             signaturesLength: header.signaturesLength, imageOffset: header.imageOffset,
                             imageLength: header.imageLength, artifactsLength: header.artifactsLength,
                             tableOffset: header.tableLength > 0 ? header.tableOffset : nil,
                             tableLength: header.tableLength > 0 ? header.tableLength : nil)
        self.manifest = ManifestInfo(version: manifest.version, compatible: manifest.compatible, created: manifest.created,
                                     imageSize: manifest.imageSize, imageSHA256: hexString(manifest.imageSHA256),
                                     minVersion: manifest.minimumVersion,
                                     artifacts: preamble.artifactRanges.map {
                                         ArtifactInfo(kind: $0.artifact.kind.rawValue, offset: $0.offset, size: $0.artifact.size,
                                                      sha256: hexString($0.artifact.sha256))
                                     },
                                     chunking: manifest.chunkLayout.map { layout in
                                         ChunkingInfo(chunkSize: layout.chunkSize, chunks: layout.chunkCount,
                                                      blockSize: ChunkLayout.blockSize, blocks: layout.blockCount,
                                                      tableSHA256: hexString(manifest.chunking?.tableSHA256 ?? []))
                                     })
        signatures = preamble.signatures.map {
            SignatureInfo(keyID: hexString($0.keyID), algorithm: $0.algorithm.name, length: $0.bytes.count)
        }
        manifestText = String(decoding: preamble.manifestBytes, as: UTF8.self)
    }

    var text: String {
        var lines = [
            "Bundle \(path) (not verified; 'updatectl image verify' checks it)",
            "format \(header.formatVersion), manifest \(header.manifestLength) bytes, signatures "
                + "\(header.signaturesLength) bytes, image at offset \(header.imageOffset), "
                + "\(header.imageLength) bytes (\(formatBytes(header.imageLength)))",
            "",
            "Manifest:",
        ]
        lines += manifestText.split(separator: "\n").map { "  \($0)" }
        if let chunking = manifest.chunking, let offset = header.tableOffset, let length = header.tableLength {
            lines.append("chunking: \(chunking.chunks) chunks of \(chunking.chunkSize) bytes, each verified before it is written; "
                + "\(chunking.blocks) blocks of \(chunking.blockSize) bytes with lookup keys")
            lines.append("chunk table at offset \(offset), \(length) bytes (\(formatBytes(length)))")
        }
        for artifact in manifest.artifacts {
            lines.append("\(artifact.kind) at offset \(artifact.offset), \(artifact.size) bytes (\(formatBytes(artifact.size)))")
        }
        lines.append("")
        var table = TextTable(header: ["SIGNED BY (KEY ID)", "ALGORITHM"])
        table.rows = signatures.map { [$0.keyID, $0.algorithm] }
        lines.append(signatures.isEmpty ? "No signatures." : table.render())
        return lines.joined(separator: "\n")
    }
}
