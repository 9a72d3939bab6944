import BusCore
import Testing

@Suite struct BusValueTests {
    @Test func signaturesFollowTheSpec() {
        #expect(TestAPI.slots.signature == "a(sssyybs)")
        #expect(TestAPI.stats.signature == "(sttdd)")
        #expect(TestAPI.extra.signature == "a{sv}")
        #expect(BusValue.structure([.string("a"), .int32(1), .string("b"), .int64(2), .int64(3), .string("c")]).signature == "(sisxxs)")
        #expect(BusValue.array(elementSignature: "a{sv}", []).signature == "aa{sv}")
        #expect(BusValue.dictEntry(.uint32(1), .array(elementSignature: "y", [])).signature == "{uay}")
        #expect(BusValue.variant(.structure([.byte(1)])).signature == "v")
        let basics: [BusValue] = [.byte(1), .bool(true), .int16(1), .uint16(1), .int32(1), .uint32(1), .int64(1), .uint64(1),
                                  .double(1), .string(""), .objectPath("/"), .signature("")]
        #expect(basics.map(\.signature).joined() == "ybnqiuxtdsog")
    }

    @Test func accessorsReturnNilOnAMismatch() {
        #expect(BusValue.string("x").stringValue == "x")
        #expect(BusValue.objectPath("/x").stringValue == nil)
        #expect(BusValue.int32(1).int64Value == nil)
        #expect(BusValue.uint64(7).uint64Value == 7)
        #expect(BusValue.byte(7).byteValue == 7)
        #expect(BusValue.bool(false).boolValue == false)
        #expect(BusValue.double(0.5).doubleValue == 0.5)
        #expect(BusValue.uint32(3).uint32Value == 3)
        #expect(BusValue.int32(-3).int32Value == -3)
        #expect(BusValue.variant(.string("x")).stringValue == nil)
        #expect(BusValue.variant(.string("x")).variantValue == .string("x"))
        #expect(TestAPI.stats.structureValue?.count == 5)
        #expect(TestAPI.slots.arrayValue?.count == 2)
        #expect(BusValue.string("x").arrayValue == nil)
    }

    @Test func dictionariesOfVariants() {
        let value = BusValue.dictionary([("a", .string("x")), ("b", .array(elementSignature: "u", []))])
        #expect(value.signature == "a{sv}")
        #expect(value.dictionaryValue == ["a": .string("x"), "b": .array(elementSignature: "u", [])])
        #expect(BusValue.dictionary([]).dictionaryValue == [:])
        // Not an a{sv}: a dictionary of strings, and an array of strings.
        #expect(BusValue.array(elementSignature: "{ss}", [.dictEntry(.string("a"), .string("b"))]).dictionaryValue == nil)
        #expect(BusValue.array(elementSignature: "s", []).dictionaryValue == nil)
    }
}
