import Foundation
import Omaha
import TestSupport
import Testing

@Suite struct UpdateConfigurationTests {
    static let etc = "etc/flatcar/update.conf"
    static let image = "usr/share/flatcar/update.conf"
    static let release = "usr/share/flatcar/release"

    static func load(_ files: [String: String]) throws -> FlatcarUpdateConfiguration {
        let root = try Scratch()
        for (name, text) in files {
            try root.write(text, to: name)
        }
        return try FlatcarUpdateConfiguration.load(root: root.path)
    }

    @Test func noFilesGiveUpdateEnginesDefaults() throws {
        let configuration = try Self.load([:])
        #expect(configuration.server == nil)
        #expect(configuration.group == "stable")
        #expect(configuration.machineAlias == "")
        #expect(configuration.appID == "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}")
        #expect(configuration.version == nil)
        #expect(configuration.board == nil)
        #expect(configuration.downloadUser == nil)
        #expect(configuration.downloadPassword == nil)
    }

    @Test func firstFileWithTheKeyWinsKeyByKey() throws {
        let configuration = try Self.load([
            Self.etc: "GROUP=beta\nFLATCAR_RELEASE_VERSION=0.0.0\n",
            Self.image: "SERVER=https://image.example/v1/update/\nGROUP=stable\nMACHINE_ALIAS=image\n",
            Self.release: "FLATCAR_RELEASE_VERSION=4459.0.0\nFLATCAR_RELEASE_BOARD=amd64-usr\n"
                + "FLATCAR_RELEASE_APPID={e96281a6-d1af-4bde-9a0a-97b76e56dc57}\nGROUP=release\n",
        ])
        #expect(configuration.group == "beta")
        #expect(configuration.server == .url("https://image.example/v1/update/"))
        #expect(configuration.machineAlias == "image")
        #expect(configuration.version == "0.0.0")
        #expect(configuration.board == "amd64-usr")
        #expect(configuration.appID == "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}")
    }

    @Test func anEmptyValueStillHidesTheImagesValue() throws {
        let configuration = try Self.load([Self.etc: "MACHINE_ALIAS=\nGROUP=\n", Self.image: "MACHINE_ALIAS=x\nGROUP=beta\n"])
        #expect(configuration.machineAlias == "")
        #expect(configuration.group == "")
    }

    @Test func lastLineWinsWithinAFile() throws {
        let configuration = try Self.load([Self.etc: "GROUP=alpha\nGROUP=beta\n"])
        #expect(configuration.group == "beta")
    }

    @Test func serverDisabled() throws {
        #expect(try Self.load([Self.etc: "SERVER=disabled\n", Self.image: "SERVER=https://a/\n"]).server == .disabled)
        #expect(try Self.load([Self.etc: "SERVER=\"disabled\"\n"]).server == .disabled)
        #expect(try Self.load([Self.etc: "SERVER=\n"]).server == .disabled)
        #expect(try Self.load([Self.etc: "SERVER=Disabled\n"]).server == .url("Disabled"))
        #expect(OmahaServerSetting.production == .url("https://public.update.flatcar-linux.net/v1/update/"))
    }

    @Test func quotesAreStrippedOnlyWhenTheyMatch() throws {
        let configuration = try Self.load([Self.etc: """
            GROUP="beta"
            MACHINE_ALIAS='web 1'
            DOWNLOAD_USER="mixed'
            DOWNLOAD_PASSWORD="
            FLATCAR_RELEASE_BOARD=""
            FLATCAR_RELEASE_VERSION="4459.0.0" trailing"
            """])
        #expect(configuration.group == "beta")
        #expect(configuration.machineAlias == "web 1")
        #expect(configuration.downloadUser == "\"mixed'")
        #expect(configuration.downloadPassword == "\"")
        #expect(configuration.board == "")
        #expect(configuration.version == "4459.0.0\" trailing")
    }

    @Test func noCommentOrWhitespaceHandling() throws {
        let configuration = try Self.load([
            Self.etc: "# GROUP=commented\n#MACHINE_ALIAS=commented\nSERVER = https://spaced/\n  DOWNLOAD_USER=indented\n"
                + "FLATCAR_RELEASE_BOARD= amd64-usr \nnot a setting\n\nDOWNLOAD_PASSWORD=a=b\n",
            Self.image: "GROUP=beta\nMACHINE_ALIAS=image\nSERVER=https://image/\nDOWNLOAD_USER=image\n",
        ])
        // The commented and the spaced lines set other keys, so the image's values show through.
        #expect(configuration.group == "beta")
        #expect(configuration.machineAlias == "image")
        #expect(configuration.server == .url("https://image/"))
        #expect(configuration.downloadUser == "image")
        #expect(configuration.board == " amd64-usr ")
        #expect(configuration.downloadPassword == "a=b")
    }

    @Test func carriageReturnsStayInTheValue() throws {
        let configuration = try Self.load([Self.etc: "GROUP=beta\r\nMACHINE_ALIAS=\"web\"\r\n"])
        #expect(configuration.group == "beta\r")
        #expect(configuration.machineAlias == "\"web\"\r")
    }

    @Test func unknownKeysAreIgnored() throws {
        let configuration = try Self.load([Self.etc: "REBOOT_STRATEGY=off\nPCR_POLICY_SERVER=https://pcr/\nFOO=bar\n"])
        #expect(configuration == (try Self.load([:])))
    }

    @Test func anUnreadableFileIsAnError() throws {
        let root = try Scratch()
        try FileManager.default.createDirectory(atPath: root.file(Self.etc), withIntermediateDirectories: true)
        #expect {
            try FlatcarUpdateConfiguration.load(root: root.path)
        } throws: { error in
            guard case let .unreadable(path, _) = error as? OmahaHostError else { return false }
            return path == root.file(Self.etc) && "\(error)".contains("cannot read \(root.file(Self.etc))")
        }
    }

    @Test func aHugeFileIsRefused() throws {
        let root = try Scratch()
        try root.write(String(repeating: "GROUP=beta\n", count: 100_000), to: Self.image)
        #expect(throws: OmahaHostError.tooLarge(path: root.file(Self.image), limit: 1 << 20)) {
            try FlatcarUpdateConfiguration.load(root: root.path)
        }
    }
}
