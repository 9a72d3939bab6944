@testable import Engine
import Foundation
import TestSupport
import Testing

/// `tandem.conf.d/*.conf` drop-ins, in temporary directories standing in for /etc, /run and
/// /usr/lib: systemd's order, overriding by name, masking, and errors that name the drop-in.
@Suite struct ConfigurationDropInTests {
    /// A main file and the three drop-in directories, most important first.
    final class Tree {
        let scratch: Scratch
        var main: String { scratch.file("tandem.conf") }
        var directories: [String] { ["etc", "run", "lib"].map { scratch.file($0) } }

        init(main text: String = "") throws {
            scratch = try Scratch()
            try scratch.write(text, to: "tandem.conf")
            for directory in directories {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        }

        @discardableResult
        func dropIn(_ directory: String, _ name: String, _ text: String) throws -> String {
            try scratch.write(text, to: directory + "/" + name)
        }

        func load() throws(ConfigurationError) -> Configuration {
            try Configuration.load(path: main, required: true, dropInDirectories: directories)
        }
    }

    @Test func dropInsApplyAfterTheMainFileInLexicalOrderOfName() throws {
        let tree = try Tree(main: "[Update]\nTrialTries=2\nGroup=main\n")
        try tree.dropIn("lib", "20-vendor.conf", "[Update]\nTrialTries=3\nGroup=vendor\n")
        try tree.dropIn("etc", "10-admin.conf", "[Update]\nTrialTries=4\n")
        try tree.dropIn("run", "30-runtime.conf", "[Update]\nGroup=runtime\n")
        let configuration = try tree.load()
        // 10-admin (from /etc) applies before 20-vendor (from /usr/lib): the name orders, not the directory.
        #expect(configuration.trialTries == 3)
        #expect(configuration.group == "runtime")
    }

    @Test func theSameNameIsTakenFromEtcThenRunThenUsrLib() throws {
        let tree = try Tree()
        try tree.dropIn("lib", "50-x.conf", "[Update]\nTrialTries=5\nGroup=lib\n")
        try tree.dropIn("run", "50-x.conf", "[Update]\nTrialTries=6\n")
        #expect(try tree.load().trialTries == 6)
        // The /usr/lib file is replaced as a whole, not merged key by key.
        #expect(try tree.load().group == nil)
        try tree.dropIn("etc", "50-x.conf", "[Update]\nTrialTries=7\n")
        #expect(try tree.load().trialTries == 7)
    }

    @Test func anEmptyFileInEtcMasksTheSameName() throws {
        let tree = try Tree()
        try tree.dropIn("lib", "50-x.conf", "[Update]\nTrialTries=5\n")
        try tree.dropIn("etc", "50-x.conf", "")
        #expect(try tree.load().trialTries == 1)
    }

    @Test func aSymlinkToDevNullMasksTheSameName() throws {
        let tree = try Tree()
        try tree.dropIn("run", "50-x.conf", "[Update]\nTrialTries=5\n")
        try FileManager.default.createSymbolicLink(atPath: tree.directories[0] + "/50-x.conf", withDestinationPath: "/dev/null")
        #expect(try tree.load().trialTries == 1)
    }

    @Test func filesNotEndingInDotConfAreIgnored() throws {
        let tree = try Tree()
        try tree.dropIn("etc", "50-x.conf.bak", "[Update]\nTrialTries=5\n")
        try tree.dropIn("etc", "50-y.conf~", "garbage")
        try tree.dropIn("etc", "README", "garbage")
        #expect(try tree.load().trialTries == 1)
    }

    @Test func missingDropInDirectoriesMeanNoDropIns() throws {
        let scratch = try Scratch()
        let main = try scratch.write("[Update]\nTrialTries=2\n", to: "tandem.conf")
        let configuration = try Configuration.load(path: main, required: true,
                                                   dropInDirectories: [scratch.file("no-such-dir")])
        #expect(configuration.trialTries == 2)
    }

    @Test func aFileNamedExplicitlyReadsItsOwnDotDDirectory() throws {
        let scratch = try Scratch()
        let main = try scratch.write("[Update]\nTrialTries=2\n", to: "tandem.conf")
        try scratch.write("[Update]\nTrialTries=9\n", to: "tandem.conf.d/override.conf")
        #expect(try Configuration.load(path: main, required: true).trialTries == 9)
    }

    @Test func aMissingOptionalMainFileStillReadsItsDropIns() throws {
        let tree = try Tree()
        try FileManager.default.removeItem(atPath: tree.main)
        try tree.dropIn("etc", "10.conf", "[Update]\nTrialTries=4\n")
        #expect(try Configuration.load(path: tree.main, required: false, dropInDirectories: tree.directories).trialTries == 4)
    }

    @Test func aBadValueInADropInNamesTheDropInAndItsLine() throws {
        let tree = try Tree(main: "[Update]\nTrialTries=2\n")
        let dropIn = try tree.dropIn("run", "10-bad.conf", "# vendor\n[Update]\nCheckIntervalSec=99999999999999999999\n")
        #expect(throws: ConfigurationError.invalidValue(path: dropIn, line: 3, key: "CheckIntervalSec",
                                                        value: "99999999999999999999",
                                                        expected: "a whole number of seconds, at least 60, up to 4294967295")) {
            try tree.load()
        }
    }

    @Test func anUnknownKeyInADropInIsIgnoredAndNamedLikeOneInTheMainFile() throws {
        let tree = try Tree()
        let dropIn = try tree.dropIn("etc", "10.conf", "[Update]\nFutureKey=1\nTrialTries=2\n")
        let configuration = try tree.load()
        #expect(configuration.ignored == [.unknownKey(path: dropIn, line: 2, section: "Update", key: "FutureKey")])
        #expect(configuration.ignored.first?.description.hasPrefix(dropIn + ":2: [Update] has no key FutureKey") == true)
        #expect(configuration.trialTries == 2)
    }
}
