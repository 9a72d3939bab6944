import Foundation
import Testing
import Verification

@Suite struct ManifestTests {
    static let canonical = """
        compatible=flatcar-amd64
        created=2026-11-21T19:00:00Z
        format=1
        image-sha256=abababababababababababababababababababababababababababababababab
        image-size=1048576
        min-version=3900.0.0
        version=3975.2.1

        """

    @Test func canonicalBytesAreSortedKeyValueLines() throws {
        let manifest = sampleManifest(minimumVersion: "3900.0.0")
        #expect(String(decoding: manifest.canonicalBytes(), as: UTF8.self) == ManifestTests.canonical)
        #expect(try Manifest.parse(manifest.canonicalBytes()) == manifest)
    }

    @Test func theOptionalKeyMayBeAbsent() throws {
        let manifest = sampleManifest()
        let text = String(decoding: manifest.canonicalBytes(), as: UTF8.self)
        #expect(!text.contains("min-version"))
        #expect(try Manifest.parse(manifest.canonicalBytes()).minimumVersion == nil)
    }

    /// One change to the canonical text, and what the error must say about it.
    struct Variant: Sendable, CustomTestStringConvertible {
        var name: String
        var replace: String
        var with: String
        var message: String
        var testDescription: String { name }
    }

    static let variants = [
        Variant(name: "unsorted keys", replace: "compatible=flatcar-amd64\ncreated=2026-11-21T19:00:00Z\n",
                with: "created=2026-11-21T19:00:00Z\ncompatible=flatcar-amd64\n", message: "ASCII order"),
        Variant(name: "trailing space", replace: "format=1\n", with: "format=1 \n", message: "0x20"),
        Variant(name: "carriage return", replace: "format=1\n", with: "format=1\r\n", message: "0x0d"),
        Variant(name: "duplicate key", replace: "format=1\n", with: "format=1\nformat=1\n", message: "appears twice"),
        Variant(name: "unknown key", replace: "format=1\n", with: "format=1\nhello=world\n", message: "unknown key 'hello'"),
        Variant(name: "missing key", replace: "compatible=flatcar-amd64\n", with: "", message: "'compatible' is missing"),
        Variant(name: "uppercase hex", replace: "abab\n", with: "ABAB\n", message: "64 lowercase hex"),
        Variant(name: "short hex", replace: "abab\n", with: "ab\n", message: "64 lowercase hex"),
        Variant(name: "leading zero", replace: "image-size=1048576", with: "image-size=01048576", message: "leading zeros"),
        Variant(name: "empty value", replace: "min-version=3900.0.0", with: "min-version=", message: "empty value"),
        Variant(name: "no final newline", replace: "version=3975.2.1\n", with: "version=3975.2.1", message: "newline"),
        Variant(name: "blank line", replace: "version=3975.2.1\n", with: "version=3975.2.1\n\n", message: "not key=value"),
        Variant(name: "other format", replace: "format=1", with: "format=4", message: "format 4 is not supported"),
        Variant(name: "format 2 without artifacts", replace: "format=1", with: "format=2", message: "none are listed"),
        Variant(name: "local time", replace: "19:00:00Z", with: "19:00:00+01:00", message: "UTC time"),
        Variant(name: "impossible date", replace: "2026-11-21", with: "2026-13-21", message: "UTC time"),
        Variant(name: "31 February", replace: "2026-11-21", with: "2026-02-31", message: "UTC time"),
        Variant(name: "hour 24", replace: "19:00:00Z", with: "24:00:00Z", message: "UTC time"),
        Variant(name: "leap second", replace: "19:00:00Z", with: "23:59:60Z", message: "UTC time"),
        Variant(name: "fractional seconds", replace: "19:00:00Z", with: "19:00:00.5Z", message: "UTC time"),
        Variant(name: "basic format", replace: "2026-11-21T19:00:00Z", with: "20261121T190000Z", message: "UTC time"),
        Variant(name: "lowercase t", replace: "2026-11-21T19", with: "2026-11-21t19", message: "UTC time"),
        Variant(name: "lowercase z", replace: "19:00:00Z", with: "19:00:00z", message: "UTC time"),
        Variant(name: "no seconds", replace: "19:00:00Z", with: "19:00Z", message: "UTC time"),
        Variant(name: "not a time", replace: "2026-11-21T19:00:00Z", with: "yesterday", message: "UTC time"),
    ]

    @Test(arguments: variants)
    func nonCanonicalTextIsRejected(_ variant: Variant) {
        let text = ManifestTests.canonical.replacingOccurrences(of: variant.replace, with: variant.with)
        #expect(text != ManifestTests.canonical, "the variant must change the text")
        #expect {
            try Manifest.parse(Array(text.utf8))
        } throws: { error in
            guard case let .malformedManifest(detail) = error as? BundleError else { return false }
            return detail.contains(variant.message)
        }
    }

    @Test func validateNamesTheFieldThatCannotBeEncoded() {
        var manifest = sampleManifest()
        manifest.version = "1.0 beta"
        #expect(throws: BundleError.malformedManifest("the value of 'version' contains the byte 0x20; values are printable ASCII without spaces")) {
            try manifest.validate()
        }
        manifest.version = "1.0\nformat=2"
        #expect(throws: BundleError.self) { try manifest.validate() }
        manifest.version = "1.0"
        manifest.imageSHA256 = [1, 2, 3]
        #expect(throws: BundleError.self) { try manifest.validate() }
        manifest.imageSHA256 = [UInt8](repeating: 0, count: 32)
        #expect(throws: Never.self) { try manifest.validate() }
    }
}

@Suite struct OSVersionTests {
    @Test(arguments: [
        ("3975.2.1", "3975.2.1", 0), ("1.2", "1.2.0", 0), ("1.10", "1.9", 1), ("3975.2.1", "3976.0.0", -1),
        ("1.0-beta2", "1.0", 1), ("1.0+build5", "1.0+build10", 1), ("007", "7", 0),
        ("99999999999999999999999", "99999999999999999999998", 1), ("1.a", "1.b", -1), ("1..2", "1.0.2", 0),
    ])
    func ordering(_ left: String, _ right: String, _ order: Int) {
        let a = OSVersion(left), b = OSVersion(right)
        #expect((a < b) == (order < 0), "\(left) < \(right)")
        #expect((a == b) == (order == 0), "\(left) == \(right)")
        #expect((a > b) == (order > 0), "\(left) > \(right)")
    }
}
