import TestSupport
import Foundation
import Testing
import Verification

/// Two key directories like /etc/tandem/keys.d (first) and /usr/share/tandem/keys.d (second).
final class KeyDirectories {
    let scratch: Scratch
    var etc: String { scratch.file("etc") }
    var usr: String { scratch.file("usr") }
    var directories: [String] { [etc, usr] }

    init() throws {
        scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: usr, withIntermediateDirectories: true)
    }

    @discardableResult
    func install(_ key: SigningKey, as name: String, in directory: String) throws -> String {
        try Data(key.publicKeyPEM()).write(to: URL(fileURLWithPath: directory + "/" + name))
        return directory + "/" + name
    }

    func write(_ text: String, to name: String, in directory: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
    }

    func store() throws -> TrustStore {
        try TrustStore(directories: directories)
    }
}

@Suite struct TrustStoreTests {
    static let vendor = Result { try SigningKey.generate(.ed25519) }
    static let admin = Result { try SigningKey.generate(.ed25519) }
    static let stranger = Result { try SigningKey.generate(.ed25519) }

    static func signed(by keys: [SigningKey], manifest: Manifest = sampleManifest()) throws -> BundlePreamble {
        let signatures = try keys.map { try $0.sign(manifest: manifest.canonicalBytes()) }
        return BundlePreamble(manifest: manifest, signatures: signatures)
    }

    @Test func aKeyInTheSecondDirectoryIsTrusted() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get()
        let file = try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        let store = try keys.store()
        #expect(store.keyIDs == [vendor.keyID])
        let verified = try store.verify(try TrustStoreTests.signed(by: [vendor]))
        #expect(verified.signerKeyID == vendor.keyID && verified.signerKeyFile == file)
        #expect(verified.manifest == sampleManifest())
    }

    @Test func aSameNamedFileInTheFirstDirectoryReplacesTheSecond() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get(), admin = try TrustStoreTests.admin.get()
        try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        let override = try keys.install(admin, as: "vendor.pem", in: keys.etc)
        let store = try keys.store()
        #expect(store.keyIDs == [admin.keyID])
        #expect(try store.verify(try TrustStoreTests.signed(by: [admin])).signerKeyFile == override)
        #expect(throws: VerificationError.unknownSigners(keyIDs: [hexString(vendor.keyID)], directories: keys.directories)) {
            try store.verify(try TrustStoreTests.signed(by: [vendor]))
        }
    }

    @Test(arguments: ["empty file", "symlink to /dev/null"])
    func anEmptyFileOrDevNullMasksTheKey(_ mask: String) throws {
        let keys = try KeyDirectories()
        try keys.install(try TrustStoreTests.vendor.get(), as: "vendor.pem", in: keys.usr)
        if mask == "empty file" {
            try keys.write("", to: "vendor.pem", in: keys.etc)
        } else {
            try FileManager.default.createSymbolicLink(atPath: keys.etc + "/vendor.pem", withDestinationPath: "/dev/null")
        }
        let store = try keys.store()
        #expect(store.keyIDs.isEmpty)
        #expect(throws: VerificationError.noTrustedKeys(directories: keys.directories)) {
            try store.verify(try TrustStoreTests.signed(by: [TrustStoreTests.vendor.get()]))
        }
    }

    @Test func missingDirectoriesAreFineButNoKeysFailsVerification() throws {
        let keys = try KeyDirectories()
        let store = try TrustStore(directories: [keys.scratch.file("absent"), keys.usr])
        #expect(store.keyIDs.isEmpty)
        #expect {
            try store.verify(try TrustStoreTests.signed(by: [TrustStoreTests.vendor.get()]))
        } throws: { error in
            "\(error)".hasPrefix("no trusted public keys in \(keys.scratch.file("absent")) or \(keys.usr); install the signer's public key")
        }
    }

    @Test func onlyPEMFilesAreKeys() throws {
        let keys = try KeyDirectories()
        try keys.install(try TrustStoreTests.vendor.get(), as: "vendor.pem.disabled", in: keys.usr)
        try keys.write("notes", to: "README", in: keys.usr)
        #expect(try keys.store().keyIDs.isEmpty)
    }

    @Test func revocationsFromEveryDirectoryApply() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get(), admin = try TrustStoreTests.admin.get()
        let vendorFile = try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        try keys.install(admin, as: "admin.pem", in: keys.etc)
        // The vendor revokes its own key; an empty list in /etc must not undo that.
        try keys.write("# rotated 2026-11\n\n  \(hexString(vendor.keyID))  # old build key\n", to: "revoked", in: keys.usr)
        try keys.write("", to: "revoked", in: keys.etc)
        let store = try keys.store()
        #expect(store.keyIDs == [admin.keyID])
        #expect(store.revokedKeyIDs == [vendor.keyID])
        #expect(throws: VerificationError.revokedKey(keyID: hexString(vendor.keyID), keyFile: vendorFile)) {
            try store.verify(try TrustStoreTests.signed(by: [vendor]))
        }
        #expect(try store.verify(try TrustStoreTests.signed(by: [vendor, admin])).signerKeyID == admin.keyID,
                "another trusted signature still carries the bundle")

        try keys.write("\(hexString(admin.keyID))\n", to: "revoked", in: keys.etc)
        #expect(throws: VerificationError.revokedKey(keyID: hexString(vendor.keyID), keyFile: vendorFile)) {
            try keys.store().verify(try TrustStoreTests.signed(by: [vendor, admin]))
        }
    }

    @Test func aMalformedRevocationListFailsTheStore() throws {
        let keys = try KeyDirectories()
        try keys.write("\(hexString(try TrustStoreTests.vendor.get().keyID).uppercased())\n", to: "revoked", in: keys.etc)
        #expect {
            try keys.store()
        } throws: { error in
            guard case let .badRevocationList(path, detail) = error as? VerificationError else { return false }
            return path == keys.etc + "/revoked" && detail.contains("on line 1, which is not a key ID")
        }
    }

    @Test func aBrokenKeyFileFailsTheStore() throws {
        let keys = try KeyDirectories()
        try keys.write("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n", to: "broken.pem", in: keys.etc)
        #expect {
            try keys.store()
        } throws: { error in
            guard case let .unreadableKey(path, _) = error as? VerificationError else { return false }
            return path == keys.etc + "/broken.pem" && "\(error)".contains("fix or remove it")
        }
    }

    @Test func aWeakRSAKeyIsNotTrusted() throws {
        try OpenSSLTool.require()
        let keys = try KeyDirectories()
        try OpenSSLTool.run("genrsa", "-out", keys.scratch.file("weak.pem"), "1024")
        try OpenSSLTool.run("pkey", "-in", keys.scratch.file("weak.pem"), "-pubout", "-out", keys.etc + "/weak.pem")
        try OpenSSLTool.run("pkey", "-pubin", "-in", keys.etc + "/weak.pem", "-outform", "DER", "-out", keys.scratch.file("weak.der"))
        let keyID = try OpenSSLTool.sha256(of: keys.scratch.file("weak.der"))
        let store = try keys.store()
        #expect(store.keyIDs.isEmpty)
        let preamble = BundlePreamble(manifest: sampleManifest(), signatures: [
            BundleSignature(keyID: keyID, algorithm: .rsaPKCS1SHA256, bytes: [UInt8](repeating: 0, count: 128)),
        ])
        #expect {
            try store.verify(preamble)
        } throws: { error in
            guard case let .untrustedKey(id, file, reason) = error as? VerificationError else { return false }
            return id == hexString(keyID) && file == keys.etc + "/weak.pem" && reason.contains("1024 bits")
        }
    }

    @Test func unknownSignersAreNamed() throws {
        let keys = try KeyDirectories()
        try keys.install(try TrustStoreTests.vendor.get(), as: "vendor.pem", in: keys.usr)
        let stranger = try TrustStoreTests.stranger.get()
        #expect {
            try keys.store().verify(try TrustStoreTests.signed(by: [stranger]))
        } throws: { error in
            "\(error)" == "the bundle is signed only by unknown keys \(hexString(stranger.keyID)); if you trust the signer, "
                + "install its public key in \(keys.etc) as NAME.pem; otherwise do not install this bundle"
        }
    }

    @Test func oneTrustedSignatureAmongUnknownOnesIsEnough() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get()
        try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        let preamble = try TrustStoreTests.signed(by: [TrustStoreTests.stranger.get(), vendor])
        #expect(try keys.store().verify(preamble).signerKeyID == vendor.keyID)
    }

    @Test func anUnsignedBundleIsRefused() throws {
        let keys = try KeyDirectories()
        try keys.install(try TrustStoreTests.vendor.get(), as: "vendor.pem", in: keys.usr)
        #expect(throws: VerificationError.unsigned) { try keys.store().verify(try TrustStoreTests.signed(by: [])) }
    }

    @Test func aTamperedManifestByteIsCaught() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get()
        let file = try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        var bytes = try TrustStoreTests.signed(by: [vendor]).serialized()
        let version = try #require(bytes.firstRange(of: Array("version=3975.2.1\n".utf8)))
        let offset = version.upperBound - 2
        bytes[offset] = UInt8(ascii: "2")
        let tampered = try BundlePreamble.parse(bytes)
        #expect(tampered.manifest.version == "3975.2.2", "the tampered manifest is still well-formed")
        #expect(throws: VerificationError.badSignature(keyID: hexString(vendor.keyID), keyFile: file)) {
            try keys.store().verify(tampered)
        }
    }

    @Test func aTamperedSignatureByteIsCaught() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get()
        let file = try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        var preamble = try TrustStoreTests.signed(by: [vendor])
        preamble.signatures[0].bytes[10] ^= 0x01
        #expect(throws: VerificationError.badSignature(keyID: hexString(vendor.keyID), keyFile: file)) {
            try keys.store().verify(preamble)
        }
    }

    @Test func theHeaderMustAgreeWithTheSignedImageSize() throws {
        let keys = try KeyDirectories()
        let vendor = try TrustStoreTests.vendor.get()
        try keys.install(vendor, as: "vendor.pem", in: keys.usr)
        var preamble = try TrustStoreTests.signed(by: [vendor])
        preamble.header.imageLength += 4096
        #expect(throws: VerificationError.sizeMismatch(header: 1_052_672, manifest: 1_048_576)) {
            try keys.store().verify(preamble)
        }
    }
}
