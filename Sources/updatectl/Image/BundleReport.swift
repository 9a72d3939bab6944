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
    }

    struct ManifestInfo: Encodable {
        var version: String
        var compatible: String
        var created: String
        var imageSize: UInt64
        var imageSHA256: String
        var minVersion: String?
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
                             imageLength: header.imageLength)
        self.manifest = ManifestInfo(version: manifest.version, compatible: manifest.compatible, created: manifest.created,
                                     imageSize: manifest.imageSize, imageSHA256: hexString(manifest.imageSHA256),
                                     minVersion: manifest.minimumVersion)
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
        lines.append("")
        var table = TextTable(header: ["SIGNED BY (KEY ID)", "ALGORITHM"])
        table.rows = signatures.map { [$0.keyID, $0.algorithm] }
        lines.append(signatures.isEmpty ? "No signatures." : table.render())
        return lines.joined(separator: "\n")
    }
}
