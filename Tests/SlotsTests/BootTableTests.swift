import Testing
@testable import Slots

/// GRUB `gptprio.next` and cgpt `prioritize` semantics on a table of USR partitions.
@Suite struct BootTableTests {
    /// (priority, tries, successful) per partition number, all of USR type.
    static func table(_ flags: [Int: (UInt8, UInt8, Bool)]) -> BootTable {
        BootTable(
            attributes: flags.mapValues { BootAttributes(priority: $0.0, tries: $0.1, successful: $0.2) },
            bootPartitions: Array(flags.keys))
    }

    struct NextBootCase: CustomTestStringConvertible, Sendable {
        var name: String
        var flags: [Int: (UInt8, UInt8, Bool)]
        var expected: Int?
        var testDescription: String { name }
    }

    static let nextBootCases: [NextBootCase] = [
        .init(name: "steady state boots the good slot", flags: [3: (1, 0, true), 4: (0, 0, false)], expected: 3),
        .init(name: "trial slot with the higher priority wins", flags: [3: (1, 0, true), 4: (2, 1, false)], expected: 4),
        .init(name: "tie goes to the lower partition number", flags: [3: (2, 0, true), 4: (2, 1, false)], expected: 3),
        .init(name: "tie regardless of table order", flags: [4: (2, 1, false), 3: (2, 0, true)], expected: 3),
        .init(name: "priority 0 never boots, even when successful", flags: [3: (0, 0, true), 4: (0, 5, false)], expected: nil),
        .init(name: "tries exhausted and not successful is skipped", flags: [3: (1, 0, true), 4: (2, 0, false)], expected: 3),
        .init(name: "both unbootable", flags: [3: (1, 0, false), 4: (2, 0, false)], expected: nil),
        .init(name: "a lower successful slot beats priority 0", flags: [3: (1, 0, true), 4: (0, 1, false)], expected: 3),
        .init(name: "tries alone make a slot bootable", flags: [3: (0, 0, true), 4: (1, 3, false)], expected: 4),
    ]

    @Test(arguments: nextBootCases)
    func nextBootFollowsGptprio(_ testCase: NextBootCase) {
        #expect(Self.table(testCase.flags).nextBoot() == testCase.expected)
    }

    @Test func takingATrialBootUsesUpOneTryAndTheNextFallsBack() throws {
        var table = Self.table([3: (1, 0, true), 4: (2, 1, false)])
        let firstBoot = table.takeNextBoot()
        let first = try #require(firstBoot)
        #expect(first.partition == 4 && first.consumedTry)
        #expect(table[4].tries == 0 && table[4].priority == 2)
        let secondBoot = table.takeNextBoot()
        let second = try #require(secondBoot)
        #expect(second.partition == 3 && !second.consumedTry)
        #expect(table[3] == BootAttributes(priority: 1, tries: 0, successful: true))
    }

    @Test func takingABootWhenNoneIsBootableChangesNothing() {
        var table = Self.table([3: (0, 0, false), 4: (0, 0, false)])
        let before = table
        #expect(table.takeNextBoot() == nil)
        #expect(table == before)
    }

    @Test func prioritizeRanksTheChosenSlotAboveTheOther() {
        var table = Self.table([3: (1, 0, true), 4: (1, 0, false)])
        table.prioritize(4)
        #expect(table[4].priority == 2 && table[3].priority == 1)
    }

    @Test func prioritizeNeverRaisesAZeroGroup() {
        var table = Self.table([3: (1, 0, true), 4: (0, 0, false)])
        table.prioritize(3)
        #expect(table[3].priority == 1 && table[4].priority == 0)
    }

    @Test func prioritizeRaisesAChosenZeroSlot() {
        var table = Self.table([3: (1, 0, true), 4: (0, 0, false)])
        table.prioritize(4)
        #expect(table[4].priority == 2 && table[3].priority == 1)
    }

    @Test func prioritizeKeepsTheOrderOfTheRest() {
        var table = Self.table([1: (5, 0, true), 2: (9, 0, true), 3: (5, 0, true), 4: (1, 0, true)])
        table.prioritize(4)
        #expect([4, 2, 1, 3].map { table[$0].priority } == [3, 2, 1, 1])
    }

    @Test func prioritizeStopsAtOneWhenGroupsOutnumberPriorities() {
        var table = Self.table(Dictionary(uniqueKeysWithValues: (1...17).map { ($0, (UInt8($0 % 16), UInt8(0), true)) }))
        table.prioritize(1)
        #expect(table[1].priority == 15)
        #expect((2...17).allSatisfy { table[$0].priority >= 1 || $0 == 16 })
        #expect(table[16].priority == 0)
    }

    @Test func operationsSetTheDocumentedFlags() {
        var table = Self.table([3: (1, 0, true), 4: (1, 0, false)])
        table.invalidate(4)
        #expect(table[4] == BootAttributes(priority: 0, tries: 0, successful: false))
        table.setTrial(4, tries: 3)
        #expect(table[4] == BootAttributes(priority: 2, tries: 3, successful: false))
        #expect(table[3] == BootAttributes(priority: 1, tries: 0, successful: true))
        #expect(table.nextBoot() == 4)
        table.markGood(4)
        #expect(table[4] == BootAttributes(priority: 2, tries: 0, successful: true))
        table.markBad(4)
        #expect(!table[4].isBootable)
        #expect(table.nextBoot() == 3)
    }

    @Test func onlyUsrPartitionsTakePart() {
        let table = BootTable(
            attributes: [1: BootAttributes(priority: 15, tries: 15, successful: true),
                         3: BootAttributes(priority: 1, tries: 0, successful: true)],
            bootPartitions: [3])
        #expect(table.nextBoot() == 3)
    }
}
