import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// The loader variables as efivarfs shows them: attributes, then UTF-16LE with a NUL.
struct SystemdBootLastBootTests {
    static let vendor = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

    func writeVariable(_ name: String, _ value: String, in fixture: SystemdBootFixture) throws {
        // EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS, little-endian.
        var bytes: [UInt8] = [6, 0, 0, 0]
        for unit in (value + "\0").utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        try fixture.scratch.write(bytes, to: "efivars/\(name)-\(Self.vendor)")
    }

    @Test func theSelectedEntryNamesTheSlotAndItsCounterTheTry() throws {
        let fixture = try SystemdBootFixture()
        try writeVariable("LoaderEntrySelected", "tandem-b+3-0.conf", in: fixture)
        try writeVariable("LoaderBootCountPath", "\\loader\\entries\\tandem-b+2-1.conf", in: fixture)
        #expect(fixture.backend().lastBoot(fixture.pair) == LastBoot(slot: .b, consumedTry: true))
    }

    @Test func aGoodEntryUsesNoTry() throws {
        let fixture = try SystemdBootFixture()
        try writeVariable("LoaderEntrySelected", "tandem-a.conf", in: fixture)
        #expect(fixture.backend().lastBoot(fixture.pair) == LastBoot(slot: .a, consumedTry: false))
    }

    @Test func theCountPathAloneStillNamesTheSlot() throws {
        let fixture = try SystemdBootFixture()
        try writeVariable("LoaderBootCountPath", "\\loader\\entries\\tandem-a+0-1.conf", in: fixture)
        #expect(fixture.backend().lastBoot(fixture.pair) == LastBoot(slot: .a, consumedTry: true))
    }

    @Test func absentForeignOrDamagedVariablesGiveNothing() throws {
        let fixture = try SystemdBootFixture()
        #expect(fixture.backend().lastBoot(fixture.pair) == nil)
        try writeVariable("LoaderEntrySelected", "debian.conf", in: fixture)
        #expect(fixture.backend().lastBoot(fixture.pair) == nil)
        try fixture.scratch.write([6, 0, 0, 0, 0x74], to: "efivars/LoaderEntrySelected-\(Self.vendor)")
        #expect(fixture.backend().lastBoot(fixture.pair) == nil)
        try fixture.scratch.write([6, 0, 0, 0, 0x00, 0xD8, 0x74, 0], to: "efivars/LoaderEntrySelected-\(Self.vendor)")
        #expect(fixture.backend().lastBoot(fixture.pair) == nil)
    }
}
