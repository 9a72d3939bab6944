import Testing
@testable import Slots

@Suite struct BootAttributesTests {
    @Test func fieldsSitAtTheFlatcarBitPositions() {
        let attributes = BootAttributes(priority: 2, tries: 1, successful: true)
        #expect(attributes.rawValue == (2 << 48) | (1 << 52) | (1 << 56))
        #expect(BootAttributes(rawValue: 0x0101_0000_0000_0000).priority == 1)
        #expect(BootAttributes(rawValue: 0x0101_0000_0000_0000).successful)
        #expect(BootAttributes(rawValue: 0x00F0_0000_0000_0000).tries == 15)
    }

    @Test func settersPreserveEveryOtherBit() {
        let foreign: UInt64 = 0xF000_0000_0000_0007 | (1 << 57) | (1 << 47)
        var attributes = BootAttributes(rawValue: foreign | (3 << 48))
        attributes.priority = 9
        attributes.tries = 4
        attributes.successful = true
        #expect(attributes.otherBits == foreign)
        attributes.successful = false
        attributes.priority = 0
        attributes.tries = 0
        #expect(attributes.rawValue == foreign)
    }

    @Test func valuesAboveTheFieldWidthAreClamped() {
        var attributes = BootAttributes(rawValue: 0)
        attributes.priority = 200
        attributes.tries = 16
        #expect(attributes.priority == 15)
        #expect(attributes.tries == 15)
        #expect(attributes.otherBits == 0)
    }

    @Test func unbootableKeepsForeignBits() {
        let attributes = BootAttributes(priority: 3, tries: 2, successful: true, preserving: 1 << 2).unbootable()
        #expect(attributes.rawValue == 1 << 2)
        #expect(!attributes.isBootable)
    }
}

@Suite struct GUIDTests {
    @Test func printedAndDiskOrderDiffer() throws {
        let guid = try #require(GUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"))
        #expect(guid.diskBytes == [0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11,
                                   0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B])
        #expect(guid.description == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
        #expect(GUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B") == guid)
    }

    @Test(arguments: ["", "c12a7328f81f11d2ba4b00a0c93ec93b", "c12a7328-f81f-11d2-ba4b-00a0c93ec93g", "c12a7328-f81f-11d2-ba4b00-a0c93ec93b"])
    func malformedTextIsRejected(_ text: String) {
        #expect(GUID(text) == nil)
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }
}
