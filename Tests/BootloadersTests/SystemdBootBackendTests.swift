import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

struct SystemdBootBackendTests {
    @Test func initBootWritesSlotAGoodAndFirstAndNoEntryForB() throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: ["tandem-b+0-2.conf"], first: "b")
        let written = try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp, kernelOptions: "console=ttyS0 quiet")
        #expect(written.contains(fixture.esp + "/loader/loader.conf"))
        #expect(try fixture.entryNames() == ["tandem-a.conf"])
        #expect(try fixture.defaultPattern() == "tandem-a[.+][1-9c]*")
        let loaderConf = try String(contentsOfFile: fixture.esp + "/loader/loader.conf", encoding: .utf8)
        #expect(loaderConf.contains("timeout 0\n"))
        let entry = try String(contentsOfFile: fixture.entriesDirectory + "/tandem-a.conf", encoding: .utf8)
        #expect(entry.contains("linux /tandem/a/vmlinuz\n"))
        #expect(entry.contains("initrd /tandem/a/initrd.img\n"))
        #expect(entry.contains("options tandem.slot=a mount.usr=PARTUUID=\(TestDisk.usrAUUID) console=ttyS0 quiet\n"))

        let table = try fixture.control().read().table
        #expect(table[fixture.a] == BootAttributes(priority: 1, tries: 0, successful: true))
        #expect(table[fixture.b] == BootAttributes(priority: 0, tries: 0, successful: false))
    }

    @Test func kernelOptionsOfMoreThanOneLineAreRefused() throws {
        let fixture = try SystemdBootFixture()
        #expect(throws: SlotError.self) {
            try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp, kernelOptions: "quiet\nlinux /evil")
        }
        // Swift makes one Character of CR LF, which is neither "\r" nor "\n".
        #expect(throws: SlotError.self) {
            try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp, kernelOptions: "quiet\r\nlinux /evil")
        }
    }

    @Test func aTrialCountsDownAsSystemdBootRenamesAndIsBlessedByDroppingTheCounter() throws {
        let fixture = try SystemdBootFixture()
        try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp, kernelOptions: "quiet")
        let control = fixture.control()

        try control.setTrial(.b, tries: 3)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+3-0.conf"])
        #expect(try fixture.defaultPattern() == "tandem-b[.+][1-9c]*")
        let entry = try String(contentsOfFile: fixture.entriesDirectory + "/tandem-b+3-0.conf", encoding: .utf8)
        #expect(entry.contains("options tandem.slot=b mount.usr=PARTUUID=\(TestDisk.usrBUUID) quiet\n"))

        let next = try control.nextBoot(commit: true)
        #expect(next.slot.name == .b && next.consumesTry)
        // systemd-boot 252 renames +3-0 to +2-1 (LESS_BY(left, 1), done + 1).
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+2-1.conf"])
        try control.nextBoot(commit: true)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+1-2.conf"])

        try control.markGood(.b)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b.conf"])
        #expect(try fixture.defaultPattern() == "tandem-b[.+][1-9c]*")
        #expect(try control.nextBoot(commit: false).consumesTry == false)

        try control.prioritize(.a)
        #expect(try fixture.defaultPattern() == "tandem-a[.+][1-9c]*")
        #expect(try control.nextBoot(commit: false).slot.name == .a)

        try control.markBad(.b)
        #expect(try fixture.entryNames() == ["tandem-a.conf"])
    }

    @Test func aTrialOutOfTriesFallsBackToTheGoodSlot() throws {
        let fixture = try SystemdBootFixture()
        try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp)
        let control = fixture.control()
        try control.setTrial(.b, tries: 1)
        try control.nextBoot(commit: true)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+0-1.conf"])
        let next = try control.nextBoot(commit: true)
        #expect(next.slot.name == .a && !next.consumesTry)
        let table = try control.read().table
        #expect(table[fixture.b] == BootAttributes(priority: 2, tries: 0, successful: false))
    }

    @Test func namesRenamedBySystemdBootItselfReadBack() throws {
        let fixture = try SystemdBootFixture()
        // As systemd-boot leaves them: +3 without DONE booted once becomes +2-1.
        try fixture.layOut(entries: ["tandem-a.conf", "tandem-b+3.conf"], first: "b")
        var table = try fixture.control().read().table
        #expect(table[fixture.b] == BootAttributes(priority: 2, tries: 3, successful: false))
        try FileManager.default.moveItem(atPath: fixture.entriesDirectory + "/tandem-b+3.conf",
                                         toPath: fixture.entriesDirectory + "/tandem-b+2-1.conf")
        table = try fixture.control().read().table
        #expect(table[fixture.b] == BootAttributes(priority: 2, tries: 2, successful: false))
        #expect(table[fixture.a] == BootAttributes(priority: 1, tries: 0, successful: true))
    }

    @Test func anEntryNamedInCapitalsIsRenamedUnderTheNameItHas() throws {
        let fixture = try SystemdBootFixture()
        // FAT compares names without case, and systemd-boot lowercases the id.
        try fixture.layOut(entries: ["tandem-a.conf", "TANDEM-B+2-0.CONF"], first: "b")
        try fixture.control().nextBoot(commit: true)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+1-1.conf"])
    }

    @Test func withoutADefaultSystemdBootPutsBFirst() throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: ["tandem-a.conf", "tandem-b.conf"], first: nil)
        #expect(try fixture.control().nextBoot(commit: false).slot.name == .b)
    }

    @Test func whenNoEntryHasTriesLeftSystemdBootBootsOneAnywayAndTandemPredictsIt() throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: ["tandem-b+0-3.conf"], first: "b")
        let next = try fixture.control().nextBoot(commit: false)
        #expect(next.slot.name == .b && !next.consumesTry)
    }

    @Test func theLastTryOfTheOnlyEntryIsCountedAsSystemdBootCountsIt() throws {
        let fixture = try SystemdBootFixture()
        try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp)
        let control = fixture.control()
        try control.setTrial(.b, tries: 1)
        try control.invalidate(.a)
        #expect(try fixture.entryNames() == ["tandem-b+1-0.conf"])
        // systemd-boot 252 renames the entry to +0-1 at power-on and keeps it: the model's
        // commit of that boot must leave the ESP as the real boot does (gptprio.next would boot
        // nothing from here; systemd-boot boots the +0 entry as a last resort, using no try).
        let counted = try control.nextBoot(commit: true)
        #expect(counted.slot.name == .b && counted.consumesTry)
        #expect(try fixture.entryNames() == ["tandem-b+0-1.conf"])
        #expect(try control.read().table[fixture.b] == BootAttributes(priority: 1, tries: 0, successful: false))
        let lastResort = try control.nextBoot(commit: true)
        #expect(lastResort.slot.name == .b && !lastResort.consumesTry)
        // Marking it bad is Tandem's own decision, and does remove it: then nothing boots.
        try control.markBad(.b)
        #expect(try fixture.entryNames() == [])
        #expect(throws: SlotError.self) { try control.nextBoot(commit: false) }
    }

    @Test func anEntryWhoseKernelIsMissingCannotBoot() throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: ["tandem-a.conf", "tandem-b.conf"], first: "b")
        try FileManager.default.removeItem(atPath: fixture.esp + "/tandem/b/vmlinuz")
        let reading = try fixture.control().read()
        #expect(reading.table[fixture.b].priority == 0)
        #expect(reading.problems.count == 1)
        #expect(try fixture.control().nextBoot(commit: false).slot.name == .a)
    }

    @Test func aUnifiedKernelImageIsBootedThroughEfi() throws {
        let fixture = try SystemdBootFixture()
        try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp)
        try fixture.scratch.write("uki", to: "esp/tandem/b/uki.efi")
        try fixture.control().setTrial(.b, tries: 2)
        let entry = try String(contentsOfFile: fixture.entriesDirectory + "/tandem-b+2-0.conf", encoding: .utf8)
        #expect(entry.contains("efi /tandem/b/uki.efi\n"))
        #expect(!entry.contains("linux "))
    }

    @Test(arguments: [
        ["tandem-a.conf", "tandem-a+1-0.conf"],
        ["tandem-a.conf", "TANDEM-A.CONF.bak.conf"],
        ["tandem-a.conf", "tandem-b+99999999999-1.conf"],
        ["tandem-a.conf", "tandem-b+3-99999999999.conf"],
        ["tandem-a.conf", "tandem-b+16-0.conf"],
        ["tandem-a.conf", "tandem-b+03-0.conf"],
        ["tandem-a.conf", "tandem-b+3-.conf"],
        ["tandem-a.conf", "tandem-b+-1.conf"],
        ["tandem-a.conf", "debian-6.1.0.conf"],
    ])
    func hostileEntryNamesAreAClearErrorAndChangeNothing(names: [String]) throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: names, first: "a")
        let before = try fixture.entryNames()
        let control = fixture.control()
        #expect(throws: SlotError.self) { try control.read() }
        #expect(throws: SlotError.self) { try control.setTrial(.b) }
        #expect(try fixture.entryNames() == before)
    }

    @Test func aLoaderConfWithCRLFLinesKeepsItsLinesAndGetsTheNewDefault() throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: ["tandem-a.conf", "tandem-b.conf"], first: nil)
        try fixture.scratch.write("timeout 3\r\ndefault tandem-a[.+][1-9c]*\r\n", to: "esp/loader/loader.conf")
        #expect(try fixture.control().nextBoot(commit: false).slot.name == .a)
        try fixture.control().prioritize(.b)
        let text = try String(contentsOfFile: fixture.esp + "/loader/loader.conf", encoding: .utf8)
        #expect(text == "timeout 3\ndefault tandem-b[.+][1-9c]*\n")
    }

    @Test func aTrialOnAnESPWithoutLoaderDirectoryCreatesIt() throws {
        let fixture = try SystemdBootFixture()
        let control = fixture.control()
        #expect(try control.read().problems.count == 2)
        try control.update { table in
            table[fixture.a] = BootAttributes(priority: 1, tries: 0, successful: true)
            table.setTrial(fixture.b, tries: 1)
        }
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+1-0.conf"])
        #expect(try fixture.defaultPattern() == "tandem-b[.+][1-9c]*")
    }

    @Test func aDefaultThatIsNotTandemsIsAClearError() throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: ["tandem-a.conf"], first: nil)
        try fixture.scratch.write("default tandem-a*\n", to: "esp/loader/loader.conf")
        #expect(throws: SlotError.self) { try fixture.control().read() }
    }

    @Test func leftoverTemporaryFilesAreReportedAndRemovedByTheNextWrite() throws {
        let fixture = try SystemdBootFixture()
        try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp)
        try fixture.scratch.write("half", to: "esp/loader/entries/tandem-b+3-0.conf.tmp-Ab12Cd")
        try fixture.scratch.write("half", to: "esp/loader/loader.conf.tmp-Ab12Cd")
        let control = fixture.control()
        #expect(try control.read().problems.count == 2)
        #expect(try control.repair().count == 2)
        #expect(try fixture.entryNames() == ["tandem-a.conf"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.esp + "/loader").sorted() == ["entries", "loader.conf"])
        #expect(try control.read().problems.isEmpty)
    }

    @Test func artifactsLiveInTheSlotsDirectoryOnTheESP() throws {
        let fixture = try SystemdBootFixture()
        let placement = try fixture.backend().artifactPlacement(for: fixture.pair.b)
        #expect(placement == BootArtifactPlacement(directory: fixture.esp + "/tandem/b",
                                                   fileNames: [.kernel: "vmlinuz", .initrd: "initrd.img", .uki: "uki.efi"]))
    }

    @Test func theSettingsMakeASystemdBootBackendOnlyWithAnESP() throws {
        let fixture = try SystemdBootFixture()
        #expect(throws: SlotError.self) { try BootBackendSettings(kind: .systemdBoot).backend(for: fixture.pair) }
        let backend = try BootBackendSettings(kind: .systemdBoot, esp: fixture.esp).backend(for: fixture.pair)
        #expect(backend.kind == .systemdBoot)
    }
}
