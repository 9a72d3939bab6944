@testable import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// The grub-env backend on a disk image and a directory as the ESP, with grub-editenv as the
/// oracle for what GRUB reads.
struct GrubEnvironmentBackendTests {
    final class Fixture {
        let disk: TestDisk
        let pair: SlotPair
        let esp: Scratch
        var environmentPath: String { esp.path + "/tandem/grubenv" }

        init() throws {
            try GrubEnvironmentTests.requireGrubEditenv()
            try Integration.requireGPTTools()
            disk = try TestDisk()
            pair = try SlotPair(disk: try Disk.probe(disk.path))
            esp = try Scratch()
        }

        deinit { disk.remove() }

        func control() -> BootControl {
            BootControl(pair: pair, backend: GrubEnvironmentBackend(pair: pair, esp: esp.path))
        }

        /// `grub-editenv list` as a dictionary (last occurrence wins, as in load_env).
        func listed() throws -> [String: String] {
            let text = try Shell.run(["grub-editenv", environmentPath, "list"])
            var variables: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                variables[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            return variables
        }

        func slotVariables() throws -> [String: String] {
            try listed().filter { $0.key.hasPrefix("TANDEM_") && !$0.key.hasPrefix("TANDEM_BOOTED") }
        }

        func editenvSet(_ assignments: String...) throws {
            try Shell.run(["grub-editenv", environmentPath, "set"] + assignments)
        }
    }

    static func variables(a: (Int, Int, Int), b: (Int, Int, Int)) -> [String: String] {
        ["TANDEM_A_PRIORITY": "\(a.0)", "TANDEM_A_TRIES": "\(a.1)", "TANDEM_A_GOOD": "\(a.2)",
         "TANDEM_B_PRIORITY": "\(b.0)", "TANDEM_B_TRIES": "\(b.1)", "TANDEM_B_GOOD": "\(b.2)"]
    }

    @Test func prepareWritesTheFragmentAndFlatcarsInitialState() throws {
        let fixture = try Fixture()
        let written = try GrubEnvironmentBackend.prepare(pair: fixture.pair, esp: fixture.esp.path,
                                                         kernelOptions: "console=ttyS0,115200n8 quiet")
        #expect(written.suffix(2) == [fixture.esp.path + "/tandem/grub.cfg", fixture.environmentPath])
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (0, 0, 0)))
        #expect(try fixture.listed()["TANDEM_BOOTED"] == "")
        #expect(try fixture.esp.read("tandem/grubenv").count == 1024)
        let fragment = String(decoding: try fixture.esp.read("tandem/grub.cfg"), as: UTF8.self)
        #expect(fragment.contains("linux /tandem/b/vmlinuz console=ttyS0,115200n8 quiet tandem.slot=b mount.usr=PARTUUID=\(TestDisk.usrBUUID)"))
        #expect(FileManager.default.fileExists(atPath: fixture.esp.path + "/tandem/a"))

        let reading = try fixture.control().read()
        #expect(reading.problems.isEmpty)
        #expect(fixture.control().backend.choice(in: reading.table) == BootChoice(partition: fixture.pair.a.partition.number, consumesTry: false))
    }

    @Test func prepareRefusesKernelOptionsGrubWouldInterpret() throws {
        let fixture = try Fixture()
        for options in ["a;reboot", "x=$root", "quote=\"", "new\nline", "é"] {
            #expect(throws: SlotError.self) {
                try GrubEnvironmentBackend.prepare(pair: fixture.pair, esp: fixture.esp.path, kernelOptions: options)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.environmentPath))
    }

    /// The lifecycle through BootControl, read back by grub-editenv after every step.
    @Test func lifecycleAsGrubEditenvListsIt() throws {
        let fixture = try Fixture()
        _ = try GrubEnvironmentBackend.prepare(pair: fixture.pair, esp: fixture.esp.path)
        try fixture.editenvSet("saved_entry=0", "other=kept\\here")
        let control = fixture.control()

        try control.invalidate(.b)
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (0, 0, 0)))
        try control.setTrial(.b, tries: 3)
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (2, 3, 0)))
        let next = try control.nextBoot(commit: true)
        #expect(next.slot.name == .b && next.consumesTry)
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (2, 2, 0)))
        try control.markGood(.b)
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (2, 0, 1)))
        try control.prioritize(.a)
        #expect(try fixture.slotVariables() == Self.variables(a: (2, 0, 1), b: (1, 0, 1)))
        try control.markBad(.a)
        #expect(try fixture.slotVariables() == Self.variables(a: (0, 0, 0), b: (1, 0, 1)))

        let listed = try fixture.listed()
        #expect(listed["saved_entry"] == "0" && listed["other"] == "kept\\here")
        #expect(try fixture.esp.read("tandem/grubenv").count == 1024)
    }

    /// What the fragment records, written here by grub-editenv as GRUB's save_env would.
    @Test func lastBootIsWhatTheFragmentRecorded() throws {
        let fixture = try Fixture()
        _ = try GrubEnvironmentBackend.prepare(pair: fixture.pair, esp: fixture.esp.path)
        let backend = GrubEnvironmentBackend(pair: fixture.pair, esp: fixture.esp.path)
        #expect(backend.lastBoot(fixture.pair) == nil)
        try fixture.editenvSet("TANDEM_BOOTED=b", "TANDEM_BOOTED_TRIAL=1")
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .b, consumedTry: true))
        // Tandem's own writes keep the record.
        try fixture.control().setTrial(.b)
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .b, consumedTry: true))
        try fixture.editenvSet("TANDEM_BOOTED=a", "TANDEM_BOOTED_TRIAL=0")
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .a, consumedTry: false))
        try fixture.editenvSet("TANDEM_BOOTED=c")
        #expect(backend.lastBoot(fixture.pair) == nil)
    }

    @Test func garbageIsReportedReadAsGrubReadsItAndRepaired() throws {
        let fixture = try Fixture()
        _ = try GrubEnvironmentBackend.prepare(pair: fixture.pair, esp: fixture.esp.path)
        try fixture.editenvSet("TANDEM_B_PRIORITY=07", "TANDEM_B_TRIES=16", "TANDEM_B_GOOD=yes")
        let control = fixture.control()
        let reading = try control.read()
        #expect(reading.table[fixture.pair.b.partition.number] == BootAttributes(priority: 0, tries: 0, successful: false))
        #expect(reading.problems.count == 3)
        #expect(reading.problems.allSatisfy {
            if case .grubEnvironment(path: fixture.environmentPath, _) = $0 { true } else { false }
        })
        #expect("\(reading.problems[0])".contains("TANDEM_B_PRIORITY='07' is not one of 0-15 (GRUB reads it as 0)"))
        let repaired = try control.repair()
        #expect(repaired.count == 3)
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (0, 0, 0)))
        #expect(try control.read().problems.isEmpty)
    }

    @Test func damageThatLeavesNoBootableSlotIsAnErrorAndNothingIsWritten() throws {
        let fixture = try Fixture()
        _ = try GrubEnvironmentBackend.prepare(pair: fixture.pair, esp: fixture.esp.path)
        try fixture.editenvSet("TANDEM_A_PRIORITY=x")
        try Shell.run(["grub-editenv", fixture.environmentPath, "unset", "TANDEM_B_GOOD"])
        let before = try fixture.esp.read("tandem/grubenv")
        let control = fixture.control()
        #expect { try control.read() } throws: { error in
            guard case SlotError.bootBackend(.unreadableState(.grubEnv, _, let detail)) = error else { return false }
            return detail.contains("TANDEM_A_PRIORITY='x'") && detail.contains("TANDEM_B_GOOD is missing") && detail.contains("neither slot would boot")
        }
        #expect(throws: SlotError.self) { try control.markGood(.b) }
        #expect(throws: SlotError.self) { try control.repair() }
        #expect(try fixture.esp.read("tandem/grubenv") == before)
    }

    @Test func aMissingOrForeignFileIsAClearError() throws {
        let fixture = try Fixture()
        let control = fixture.control()
        #expect { try control.read() } throws: { error in
            guard case SlotError.bootBackend(.notConfigured(.grubEnv, let detail)) = error else { return false }
            return detail.contains("init-boot")
        }
        try FileManager.default.createDirectory(atPath: fixture.esp.path + "/tandem", withIntermediateDirectories: true)
        _ = try fixture.esp.write("not a grubenv", to: "tandem/grubenv")
        #expect { try control.read() } throws: { error in
            guard case SlotError.bootBackend(.unreadableState(.grubEnv, _, let detail)) = error else { return false }
            return detail.contains("GRUB: invalid environment block")
        }
    }

    /// A block of another size (GRUB reads it but cannot save to one Tandem grows) is replaced
    /// whole by a 1024-byte one; the others' variables survive.
    @Test func aBlockOfAnotherSizeIsReplacedByA1024ByteOne() throws {
        let fixture = try Fixture()
        try FileManager.default.createDirectory(atPath: fixture.esp.path + "/tandem", withIntermediateDirectories: true)
        let block = "# GRUB Environment Block\nkeep=me\nTANDEM_A_PRIORITY=1\nTANDEM_A_GOOD=1\n####"
        _ = try fixture.esp.write(block, to: "tandem/grubenv")
        let control = fixture.control()
        let reading = try control.read()
        #expect(reading.problems.contains(.grubEnvironment(path: fixture.environmentPath, detail: "it is \(block.utf8.count) bytes, not 1024")))
        try control.setTrial(.b, tries: 2)
        #expect(try fixture.esp.read("tandem/grubenv").count == 1024)
        #expect(try fixture.slotVariables() == Self.variables(a: (1, 0, 1), b: (2, 2, 0)))
        #expect(try fixture.listed()["keep"] == "me")
    }

    /// The fragment gives A a tie whatever the partition numbers; the backend predicts that,
    /// where the GPT model would pick the lower partition number.
    @Test func aTieGoesToAEvenWhenAIsTheHigherPartition() throws {
        try Integration.requireGPTTools()
        let disk = try TestDisk(extraSgdisk: ["-c", "3:USR-B", "-c", "4:USR-A"])
        defer { disk.remove() }
        let pair = try SlotPair(disk: try Disk.probe(disk.path))
        #expect(pair.a.partition.number == 4)
        let good = BootAttributes(priority: 1, tries: 0, successful: true)
        let table = BootTable(attributes: [3: good, 4: good], bootPartitions: [3, 4])
        let backend = GrubEnvironmentBackend(pair: pair, esp: "/unused")
        #expect(backend.choice(in: table) == BootChoice(partition: 4, consumesTry: false))
        var higherB = table
        higherB[3].priority = 2
        #expect(backend.choice(in: higherB) == BootChoice(partition: 3, consumesTry: false))
    }

    @Test func theSettingsMakeTheBackendWithAnESP() throws {
        let fixture = try Fixture()
        #expect(throws: SlotError.self) { try BootBackendSettings(kind: .grubEnv).backend(for: fixture.pair) }
        let backend = try BootBackendSettings(kind: .grubEnv, esp: fixture.esp.path).backend(for: fixture.pair)
        #expect(backend.kind == .grubEnv)
        #expect(try backend.artifactPlacement(for: fixture.pair.b)
            == BootArtifactPlacement(directory: fixture.esp.path + "/tandem/b", fileNames: [.kernel: "vmlinuz", .initrd: "initrd.img"]))
    }
}
