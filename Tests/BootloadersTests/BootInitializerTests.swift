import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// `updatectl disk init-boot`'s logic: the backend's files, then the initial state for every
/// backend alike.
@Suite struct BootInitializerTests {
    /// A file backend that also writes a bootloader file of its own.
    final class PreparingBackend: BootFilesPreparing {
        let inner: FileBootBackend
        let configPath: String
        var kind: BootBackendKind { inner.kind }
        init(_ inner: FileBootBackend, configPath: String) {
            self.inner = inner
            self.configPath = configPath
        }
        func read(_ pair: SlotPair) throws(SlotError) -> BootReading { try inner.read(pair) }
        func write(_ table: BootTable, to pair: SlotPair) throws -> [BootStateProblem] { try inner.write(table, to: pair) }
        func artifactPlacement(for slot: Slot) throws(SlotError) -> BootArtifactPlacement? { nil }
        func prepare(pair: SlotPair, kernelOptions: String) throws -> [String] {
            try "options \(kernelOptions)\n".write(toFile: configPath, atomically: true, encoding: .utf8)
            return [configPath]
        }
    }

    @Test func gptprioGetsFlatcarsInitialFlagsAndKeepsEveryOtherBit() throws {
        try TestDisk.with(.imageFile) { disk in
            let pair = try SlotPair(disk: try Disk.probe(disk.path))
            try BootControl(pair: pair).update { table in
                table[3] = BootAttributes(priority: 2, tries: 0, successful: false, preserving: 1 << 60)
                table[4] = BootAttributes(priority: 3, tries: 5, successful: true)
            }
            let outcome = try BootInitializer.initialize(pair: pair, backend: try BootBackendSettings().open(for: pair),
                                                         kernelOptions: "")
            #expect(outcome.files.isEmpty && outcome.change.written)
            // sgdisk, not Tandem, reads the result.
            #expect(try disk.sgdiskAttributes(3) == (1 << 60) | (1 << 48) | (1 << 56))
            #expect(try disk.sgdiskAttributes(4) == 0)
        }
    }

    @Test func aPreparingBackendWritesItsFilesThenTheInitialState() throws {
        try TestDisk.with(.imageFile) { disk in
            let pair = try SlotPair(disk: try Disk.probe(disk.path))
            let file = try FileBootBackend.create(at: disk.directory.appendingPathComponent("state").path, kind: .grubEnv)
            let config = disk.directory.appendingPathComponent("grub.cfg").path
            let gptBefore = try disk.sgdiskAttributes(4)
            let outcome = try BootInitializer.initialize(pair: pair, backend: PreparingBackend(file, configPath: config),
                                                         kernelOptions: "console=ttyS0")
            #expect(outcome.files == [config])
            #expect(try String(contentsOfFile: config, encoding: .utf8) == "options console=ttyS0\n")
            #expect(try file.flags(.a, pair) == BootAttributes(priority: 1, tries: 0, successful: true))
            #expect(try file.flags(.b, pair) == BootAttributes(priority: 0, tries: 0, successful: false))
            #expect(try disk.sgdiskAttributes(4) == gptBefore, "the GPT is not this backend's")
        }
    }

    @Test func aBackendThatCannotPrepareItsFilesIsRefusedByName() throws {
        try TestDisk.with(.imageFile) { disk in
            let pair = try SlotPair(disk: try Disk.probe(disk.path))
            let file = try FileBootBackend.create(at: disk.directory.appendingPathComponent("state").path, kind: .custom)
            let before = try String(contentsOfFile: file.path, encoding: .utf8)
            let error = try #require(throws: SlotError.self) {
                try BootInitializer.initialize(pair: pair, backend: file, kernelOptions: "")
            }
            #expect("\(error)".contains("init-boot is not supported for custom"), "\(error)")
            #expect(try String(contentsOfFile: file.path, encoding: .utf8) == before, "nothing written")
        }
    }
}
