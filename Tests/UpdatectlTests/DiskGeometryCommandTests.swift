import Foundation
import Slots
import Testing
import TestSupport

/// The overlapping-slot finding through `updatectl`, as it was reproduced: `disk install
/// --booted-slot A` exited 0, said "read-back verified" and had overwritten slot A (or the
/// other partitions, or the GPT). Now every variant exits 1 naming the partitions and their
/// ranges, and not one byte of the disk changes (SHA-256 of the whole image by openssl).
@Suite(.serialized)
struct DiskGeometryCommandTests {
    static func digest(_ path: String) throws -> String {
        String(try Shell.run(["openssl", "dgst", "-sha256", "-r", path]).prefix(64))
    }

    @Test(arguments: BadSlotLayout.allCases)
    func everyCommandRefusesABadSlotLayoutAndWritesNothing(_ variant: BadSlotLayout) throws {
        let harness = try InstallHarness()
        let bundle = try harness.fixture.bundle("v2.tandem", image: try harness.fixture.randomImage("image.raw", size: 1 << 20))
        let path = harness.disk.path
        try GPTImage.edit(path) { variant.apply(to: &$0) }
        let before = try Self.digest(path)

        let commands: [[String]] = [
            InstallCommandTests.installArguments(harness, bundle),
            ["disk", "show", path],
            ["disk", "mark", path, "B", "good"],
            ["disk", "next-boot", path, "--commit"],
            ["disk", "repair", path],
        ]
        for arguments in commands {
            let output = try Shell.capture([Updatectl.path] + arguments)
            #expect(output.status == 1, "\(arguments.prefix(2)): exit \(output.status)\n\(output.stdout)\(output.stderr)")
            for text in variant.expectedText {
                #expect(output.stderr.contains(text), "\(arguments.prefix(2)) must say '\(text)': \(output.stderr)")
            }
            #expect(!output.stdout.contains("installed version"))
        }
        #expect(try Self.digest(path) == before, "not one byte of the disk may change")
    }

    /// Each GPT that made updatectl trap (SIGILL, exit status 4 or 132) before: now an error
    /// (exit 1) or, where one copy is sound, success; never a signal.
    @Test(arguments: [
        "inverted B", "B from 2^63", "primary last usable 2^64-1", "entry array overflow", "entries LBA 2^64-2", "136-byte entries",
    ])
    func noCraftedTableMakesUpdatectlTrap(_ craft: String) throws {
        try TestDisk.with(.imageFile) { testDisk in
            try GPTImage.edit(testDisk.path) { image in
                switch craft {
                case "inverted B": image.set(entry: 4, .lastLBA, 44056)
                case "B from 2^63": image.set(entry: 4, .firstLBA, 1 << 63)
                case "primary last usable 2^64-1": image[.primary, .lastUsableLBA] = UInt64.max
                case "entry array overflow":
                    image.set(.entryCount, 0xFFFF_FFFF)
                    image.set(.entrySize, 0xFFFF_FFF8)
                case "entries LBA 2^64-2": image.set(.entriesLBA, UInt64.max - 1)
                default:
                    image.set(.entryCount, 120)
                    image.set(.entrySize, 136)
                }
            }
            for arguments in [["show"], ["next-boot", "--commit"], ["mark", "B", "bad"], ["repair"]] {
                let output = try Shell.capture([Updatectl.path, "disk", arguments[0], testDisk.path] + arguments.dropFirst())
                #expect(output.status == 0 || output.status == 1, "\(craft): disk \(arguments[0]) exited \(output.status): \(output.stderr)")
            }
        }
    }
}
