@testable import Bootloaders
import Foundation
import Testing
import TestSupport

/// The grubenv parser and serializer against grub-editenv (grub-common), the oracle: what it
/// lists is what GRUB's load_env reads.
struct GrubEnvironmentTests {
    static func requireGrubEditenv() throws {
        try Integration.require(Shell.which("grub-editenv"), "grub-editenv is missing (apt-get install grub-common)")
    }

    /// `grub-editenv FILE list` as raw bytes.
    static func editenvList(_ path: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["grub-editenv", path, "list"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    /// The listing grub-editenv would print for what Tandem parsed: `name=value` lines.
    static func listing(_ environment: GrubEnvironment) -> [UInt8] {
        environment.variables.flatMap { $0.name + Array("=".utf8) + $0.value + Array("\n".utf8) }
    }

    @Test func blocksWrittenByGrubEditenvParseAsItListsThem() throws {
        try Self.requireGrubEditenv()
        let scratch = try Scratch()
        let path = scratch.file("grubenv")
        try Shell.run(["grub-editenv", path, "create"])
        try Shell.run(["grub-editenv", path, "set", "saved_entry=gnulinux-advanced>1", "back=C:\\dir\\x",
                       "multi=line one\nline two", "empty=", "TANDEM_A_PRIORITY=1", "next_entry=x=y"])
        let bytes = try scratch.read("grubenv")
        let parsed = try GrubEnvironment.parse(bytes)
        #expect(parsed.defects.isEmpty)
        #expect(Self.listing(parsed.environment) == (try Self.editenvList(path)))
        #expect(parsed.environment.value(of: "multi") == Array("line one\nline two".utf8))
        #expect(parsed.environment.value(of: "back") == Array("C:\\dir\\x".utf8))
    }

    @Test func blocksWrittenByTandemListIdenticallyInGrubEditenv() throws {
        try Self.requireGrubEditenv()
        let scratch = try Scratch()
        let environment = GrubEnvironment(variables: [
            .init("TANDEM_A_PRIORITY", "15"), .init("weird", "a\\b\nc\\\n"), .init("", "empty name"),
            .init("x", ""), .init("x", "duplicate"),
        ])
        let bytes = try #require(environment.serialized())
        #expect(bytes.count == 1024)
        let path = try scratch.write(bytes, to: "grubenv")
        #expect(try Self.editenvList(path) == Self.listing(environment))
        // grub-editenv can change it in place: it found the padding it needs.
        try Shell.run(["grub-editenv", path, "set", "TANDEM_A_PRIORITY=2", "added=1"])
        let changed = try GrubEnvironment.parse(try scratch.read("grubenv"))
        #expect(changed.defects.isEmpty)
        #expect(changed.environment.value(of: "TANDEM_A_PRIORITY") == Array("2".utf8))
        #expect(changed.environment.value(of: "weird") == Array("a\\b\nc\\\n".utf8))
        #expect(Self.listing(changed.environment) == (try Self.editenvList(path)))
    }

    /// Hostile blocks of bytes GRUB's reader cares about (=, newline, backslash, #, NUL) in
    /// random order: Tandem reads exactly what grub-editenv lists, and never traps.
    @Test func randomBlocksParseAsGrubEditenvListsThem() throws {
        try Self.requireGrubEditenv()
        let scratch = try Scratch()
        var random = SplitMix64(seed: 0x6772_7562)
        let alphabet = Array("=\n\\#\0ab=\n".utf8)
        for round in 0..<300 {
            let size = [1024, 1024, 26, 100, 2000][round % 5]
            var bytes = GrubEnvironment.signature
            while bytes.count < size {
                bytes.append(alphabet[Int(random.next() % UInt64(alphabet.count))])
            }
            let path = try scratch.write(bytes, to: "grubenv")
            let parsed = try GrubEnvironment.parse(bytes)
            let expected = try Self.editenvList(path)
            #expect(Self.listing(parsed.environment) == expected, "round \(round): \(bytes)")
            // Serialized again, the block means the same to GRUB when it fits.
            if let again = parsed.environment.serialized() {
                #expect(Self.listing(try GrubEnvironment.parse(again).environment) == expected)
            }
        }
    }

    @Test func refusesWhatGrubRefuses() throws {
        #expect(throws: GrubEnvironmentParseError.missingSignature) { try GrubEnvironment.parse([]) }
        #expect(throws: GrubEnvironmentParseError.missingSignature) { try GrubEnvironment.parse(Array("# GRUB Environment Block\n".utf8)) }
        #expect(throws: GrubEnvironmentParseError.missingSignature) { try GrubEnvironment.parse(Array("# GRUB Environment block\n#".utf8)) }
        #expect(throws: GrubEnvironmentParseError.tooLarge(70000)) {
            try GrubEnvironment.parse(GrubEnvironment.signature + [UInt8](repeating: 35, count: 70000 - 25))
        }
    }

    @Test func reportsWhatGrubReadsPast() throws {
        let short = try GrubEnvironment.parse(Array("# GRUB Environment Block\nx=1\nbroken".utf8))
        #expect(short.environment.variables == [.init("x", "1")])
        #expect(short.defects == [.unusualSize(35), .noFreeSpace, .brokenLine(offset: 29)])
        #expect(GrubEnvironment(variables: [.init("big", String(repeating: "v", count: 1000))]).serialized() == nil)
    }
}
