/// What a bundle says about its image, and the bytes its signatures cover.
///
/// The encoding is canonical: `key=value` lines in ASCII order of the keys, each ending in
/// `\n`, values printable ASCII without whitespace, no unknown, duplicate or empty fields.
/// `parse` re-serializes what it read and demands the same bytes, so that one manifest has
/// exactly one encoding and no two tools can disagree about what was signed.
public struct Manifest: Equatable, Sendable {
    /// The format of a manifest without boot artifacts; hosts of every Tandem version read it.
    public static let format = "1"
    /// The format of a manifest with boot artifacts. A Tandem that reads only format 1 refuses
    /// it, rather than install the image without the kernel it needs.
    public static let artifactsFormat = "2"
    /// The format of a manifest with a chunk table (`chunking`), with or without artifacts.
    public static let chunkedFormat = "3"

    /// A format 3 image's chunking: the chunk size and the SHA-256 of the chunk table.
    public struct Chunking: Equatable, Sendable {
        public var chunkSize: UInt64
        public var tableSHA256: [UInt8]

        public init(chunkSize: UInt64, tableSHA256: [UInt8]) {
            self.chunkSize = chunkSize
            self.tableSHA256 = tableSHA256
        }
    }

    /// The OS version of the image, e.g. `3975.2.1`.
    public var version: String
    /// The board and OS the image is for, e.g. `flatcar-amd64`.
    public var compatible: String
    public var imageSize: UInt64
    public var imageSHA256: [UInt8]
    /// UTC RFC 3339 with whole seconds, as stored: `2026-11-21T19:00:00Z`.
    public var created: String
    /// The host must already run at least this version to install the image.
    public var minimumVersion: String?
    /// Boot files after the image, sorted by kind, at most one of each.
    public var artifacts: [BundleArtifact] {
        didSet { artifacts.sort { $0.kind < $1.kind } }
    }

    /// Format 3 only: how the image is cut into verified chunks.
    public var chunking: Chunking?

    /// The `format` value this manifest is written with.
    public var formatValue: String {
        if chunking != nil { return Manifest.chunkedFormat }
        return artifacts.isEmpty ? Manifest.format : Manifest.artifactsFormat
    }

    /// The chunk layout of a format 3 image; nil for formats 1 and 2 (and for a chunking that
    /// `parse` would refuse).
    public var chunkLayout: ChunkLayout? {
        chunking.flatMap { ChunkLayout(imageSize: imageSize, chunkSize: $0.chunkSize) }
    }

    public init(version: String, compatible: String, imageSize: UInt64, imageSHA256: [UInt8],
                created: String, minimumVersion: String? = nil, artifacts: [BundleArtifact] = [],
                chunking: Chunking? = nil) {
        self.version = version
        self.compatible = compatible
        self.imageSize = imageSize
        self.imageSHA256 = imageSHA256
        self.created = created
        self.minimumVersion = minimumVersion
        self.artifacts = artifacts.sorted { $0.kind < $1.kind }
        self.chunking = chunking
    }

    enum Key: String, CaseIterable {
        case compatible, created, format, imageSHA256 = "image-sha256", imageSize = "image-size"
        case minimumVersion = "min-version", version
        case initrdSHA256 = "initrd-sha256", initrdSize = "initrd-size", kernelSHA256 = "kernel-sha256"
        case kernelSize = "kernel-size", ukiSHA256 = "uki-sha256", ukiSize = "uki-size"
        case chunkSize = "chunk-size", chunkTableSHA256 = "chunk-table-sha256"

        static func size(_ kind: BundleArtifact.Kind) -> Key {
            switch kind {
            case .kernel: .kernelSize
            case .initrd: .initrdSize
            case .uki: .ukiSize
            }
        }

        static func sha256(_ kind: BundleArtifact.Kind) -> Key {
            switch kind {
            case .kernel: .kernelSHA256
            case .initrd: .initrdSHA256
            case .uki: .ukiSHA256
            }
        }

        static let known = allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    }

    private var fields: [(key: Key, value: String)] {
        var fields: [(key: Key, value: String)] = [
            (.compatible, compatible), (.created, created), (.format, formatValue),
            (.imageSHA256, hexString(imageSHA256)), (.imageSize, String(imageSize)), (.version, version),
        ]
        if let minimumVersion { fields.append((.minimumVersion, minimumVersion)) }
        if let chunking {
            fields.append((.chunkSize, String(chunking.chunkSize)))
            fields.append((.chunkTableSHA256, hexString(chunking.tableSHA256)))
        }
        for artifact in artifacts {
            fields.append((Key.size(artifact.kind), String(artifact.size)))
            fields.append((Key.sha256(artifact.kind), hexString(artifact.sha256)))
        }
        return fields.sorted { Array($0.key.rawValue.utf8).lexicographicallyPrecedes(Array($1.key.rawValue.utf8)) }
    }

    public func canonicalBytes() -> [UInt8] {
        Array(fields.map { "\($0.key.rawValue)=\($0.value)\n" }.joined().utf8)
    }

    /// Checks that the fields can be written as a manifest that parses back to them, naming
    /// the first field that cannot (a version with a space or a newline, an uppercase created
    /// time, a digest of the wrong length).
    public func validate() throws(BundleError) {
        for (key, value) in fields {
            try Manifest.checkCharacters(key, value)
        }
        guard try Manifest.parse(canonicalBytes()) == self else {
            throw .malformedManifest("its fields do not survive encoding; report this as a bug in Tandem")
        }
    }

    public static func parse(_ bytes: [UInt8]) throws(BundleError) -> Manifest {
        let values = try lines(bytes)
        func required(_ key: Key) throws(BundleError) -> String {
            guard let value = values[key] else { throw .malformedManifest("required key '\(key.rawValue)' is missing") }
            return value
        }
        let (compatible, created, format, digest, size, version) = try (
            required(.compatible), required(.created), required(.format), required(.imageSHA256),
            required(.imageSize), required(.version))
        guard [Manifest.format, Manifest.artifactsFormat, Manifest.chunkedFormat].contains(format) else {
            throw .malformedManifest("manifest format \(format) is not supported; this Tandem reads formats "
                + "\(Manifest.format), \(Manifest.artifactsFormat) and \(Manifest.chunkedFormat); update Tandem")
        }
        let imageSHA256 = try sha256(digest, key: .imageSHA256)
        let imageSize = try number(size, key: .imageSize)
        let artifacts = try artifacts(values)
        let chunking = try chunking(values, imageSize: imageSize)
        guard (format == Manifest.chunkedFormat) == (chunking != nil) else {
            throw .malformedManifest(chunking == nil
                ? "format \(Manifest.chunkedFormat) needs '\(Key.chunkSize.rawValue)' and '\(Key.chunkTableSHA256.rawValue)'"
                : "it has a chunk table, which needs format \(Manifest.chunkedFormat), but says format \(format)")
        }
        // One encoding: format 2 exactly when there are artifacts (format 3 may have them or
        // not), so that a host too old for artifacts never mistakes a bundle that needs them
        // for one that does not.
        guard chunking != nil || format == (artifacts.isEmpty ? Manifest.format : Manifest.artifactsFormat) else {
            throw .malformedManifest(artifacts.isEmpty
                ? "format \(Manifest.artifactsFormat) declares boot artifacts, but none are listed"
                : "it lists boot artifacts, which need format \(Manifest.artifactsFormat), but says format \(format)")
        }
        // Refused here, so both when a bundle is built and when one is read for an install: a
        // signed empty image would otherwise be "verified" and its empty slot put on trial.
        guard imageSize > 0 else {
            throw .malformedManifest("image-size is 0: the image is empty, and an empty slot cannot boot; "
                + "build the bundle from the real image")
        }
        guard Manifest.isValidCreated(created) else {
            throw .malformedManifest("created must be a UTC time like 2026-11-21T19:00:00Z, not '\(created)'")
        }
        let manifest = Manifest(version: version, compatible: compatible, imageSize: imageSize,
                                imageSHA256: imageSHA256, created: created, minimumVersion: values[.minimumVersion],
                                artifacts: artifacts, chunking: chunking)
        // The checks above should leave exactly one encoding; this comparison makes that a
        // guarantee rather than a hope.
        guard manifest.canonicalBytes() == bytes else {
            throw .malformedManifest("it is not in canonical form; rebuild it with 'updatectl image create'")
        }
        return manifest
    }

    private static func sha256(_ digest: String, key: Key) throws(BundleError) -> [UInt8] {
        guard digest.utf8.count == 2 * SHA256.digestLength,
              digest.utf8.allSatisfy({ isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }),
              let bytes = Verification.bytes(fromHex: digest)
        else {
            throw .malformedManifest("\(key.rawValue) must be 64 lowercase hex digits, not '\(digest)'")
        }
        return bytes
    }

    private static func number(_ text: String, key: Key) throws(BundleError) -> UInt64 {
        guard text.utf8.allSatisfy(isDigit), text == "0" || !text.hasPrefix("0"), let value = UInt64(text) else {
            throw .malformedManifest("\(key.rawValue) must be a decimal number of bytes without leading zeros, not '\(text)'")
        }
        return value
    }

    /// The chunking the fields give: both keys or neither, a chunk size `ChunkLayout` accepts
    /// for this image.
    private static func chunking(_ values: [Key: String], imageSize: UInt64) throws(BundleError) -> Chunking? {
        switch (values[.chunkSize], values[.chunkTableSHA256]) {
        case (nil, nil):
            return nil
        case let (size?, digest?):
            let chunkSize = try number(size, key: .chunkSize)
            guard ChunkLayout(imageSize: max(imageSize, 1), chunkSize: chunkSize) != nil else {
                throw .malformedManifest("chunk-size is \(chunkSize); it must be a power of two from "
                    + "\(ChunkLayout.chunkSizes.lowerBound) to \(ChunkLayout.chunkSizes.upperBound), giving at most "
                    + "\(ChunkLayout.maximumChunkCount) chunks")
            }
            return Chunking(chunkSize: chunkSize, tableSHA256: try sha256(digest, key: .chunkTableSHA256))
        case (nil, _?):
            throw .malformedManifest("\(Key.chunkTableSHA256.rawValue) is given without \(Key.chunkSize.rawValue)")
        case (_?, nil):
            throw .malformedManifest("\(Key.chunkSize.rawValue) is given without \(Key.chunkTableSHA256.rawValue)")
        }
    }

    /// The artifacts the fields list: each kind with both its size and digest or neither, each
    /// size 1 ... `BundleArtifact.maximumSize`, in a combination a bootloader can boot.
    private static func artifacts(_ values: [Key: String]) throws(BundleError) -> [BundleArtifact] {
        var artifacts: [BundleArtifact] = []
        for kind in BundleArtifact.Kind.allCases {
            let sizeKey = Key.size(kind), digestKey = Key.sha256(kind)
            switch (values[sizeKey], values[digestKey]) {
            case (nil, nil):
                continue
            case let (size?, digest?):
                let size = try number(size, key: sizeKey)
                guard (1...BundleArtifact.maximumSize).contains(size) else {
                    throw .malformedManifest("\(sizeKey.rawValue) is \(size) bytes; an artifact is 1 to "
                        + "\(BundleArtifact.maximumSize) bytes")
                }
                artifacts.append(BundleArtifact(kind: kind, size: size, sha256: try sha256(digest, key: digestKey)))
            case (nil, _?):
                throw .malformedManifest("\(digestKey.rawValue) is given without \(sizeKey.rawValue)")
            case (_?, nil):
                throw .malformedManifest("\(sizeKey.rawValue) is given without \(digestKey.rawValue)")
            }
        }
        try BundleArtifact.checkCombination(artifacts)
        return artifacts
    }

    /// Splits the text into fields, enforcing the line syntax, the key order and the
    /// character set, with the line number of the first offence.
    private static func lines(_ bytes: [UInt8]) throws(BundleError) -> [Key: String] {
        guard !bytes.isEmpty else { throw .malformedManifest("it is empty") }
        guard bytes.last == UInt8(ascii: "\n") else {
            throw .malformedManifest("its last line does not end with a newline")
        }
        var values: [Key: String] = [:]
        var previous: Key?
        for (index, line) in bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
                throw .malformedManifest("line \(number) is not key=value")
            }
            let name = String(decoding: line[..<equals], as: UTF8.self)
            guard let key = Key(rawValue: name) else {
                throw .malformedManifest("line \(number) has unknown key '\(printable(name))'; the keys are \(Key.known); "
                    + "a newer Tandem may be needed")
            }
            let value = String(decoding: line[(equals + 1)...], as: UTF8.self)
            try checkCharacters(key, value)
            guard values[key] == nil else { throw .malformedManifest("key '\(name)' appears twice") }
            if let previous, !Array(previous.rawValue.utf8).lexicographicallyPrecedes(Array(name.utf8)) {
                throw .malformedManifest("key '\(name)' on line \(number) comes after '\(previous.rawValue)'; "
                    + "keys must be in ASCII order")
            }
            values[key] = value
            previous = key
        }
        return values
    }

    private static func checkCharacters(_ key: Key, _ value: String) throws(BundleError) {
        guard !value.isEmpty else { throw .malformedManifest("key '\(key.rawValue)' has an empty value") }
        if let bad = value.utf8.first(where: { !(0x21...0x7E).contains($0) }) {
            throw .malformedManifest("the value of '\(key.rawValue)' contains the byte 0x\(hexString([bad])); "
                + "values are printable ASCII without spaces")
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Keys quoted in errors come from the file; keep control characters out of the terminal.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
