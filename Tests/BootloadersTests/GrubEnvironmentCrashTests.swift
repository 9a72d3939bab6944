@testable import Bootloaders
import Slots
import SystemPackage
import Testing
import TestSupport

/// Power cuts during Tandem's rewrite of the grubenv: after every step, with every subset of
/// the 512-byte sectors of an interrupted write reaching the disk, GRUB sees the old
/// variables or the new ones, and never a state in which neither slot boots.
struct GrubEnvironmentCrashTests {
    /// A grubenv on a disk with 512-byte sectors that loses power at step `cutAt`: the write
    /// in progress reaches the disk only in the sectors of `landing` (indices into the sectors
    /// the write touches), and a replacement by rename either happens or not.
    final class PowerCutStorage: GrubEnvironmentStorage {
        static let sectorSize = 512
        var durable: [UInt8]?
        let cutAt: Int
        let landing: Set<Int>
        private(set) var steps = 0
        /// The number of sectors the interrupted write touched.
        private(set) var cutSectors = 0

        init(_ bytes: [UInt8]?, cutAt: Int = .max, landing: Set<Int> = []) {
            durable = bytes
            self.cutAt = cutAt
            self.landing = landing
        }

        let location = "power-cut grubenv"

        func read() throws(Errno) -> [UInt8]? { durable }

        func overwrite(_ bytes: ArraySlice<UInt8>, at offset: Int) throws(Errno) {
            guard var block = durable, offset + bytes.count <= block.count else { throw .invalidArgument }
            defer { steps += 1 }
            let sectors = Array((offset / Self.sectorSize)...((offset + bytes.count - 1) / Self.sectorSize))
            if steps == cutAt { cutSectors = sectors.count }
            for (index, sector) in sectors.enumerated() where steps != cutAt || landing.contains(index) {
                let start = max(offset, sector * Self.sectorSize)
                let end = min(offset + bytes.count, (sector + 1) * Self.sectorSize)
                block.replaceSubrange(start..<end, with: bytes[(start - offset + bytes.startIndex)..<(end - offset + bytes.startIndex)])
            }
            durable = block
            if steps == cutAt { throw .ioError }
        }

        func replace(with bytes: [UInt8]) throws(Errno) {
            defer { steps += 1 }
            if steps == cutAt {
                cutSectors = 1
                if landing.contains(0) { durable = bytes }
                throw .ioError
            }
            durable = bytes
        }
    }

    static func attributes(_ table: BootTable, _ pair: SlotPair) -> [BootAttributes] {
        [table[pair.a.partition.number], table[pair.b.partition.number]]
    }

    /// Runs `change` from `start` with a cut at every step and every landing pattern.
    /// Returns how many interrupted writes were checked.
    static func checkEveryCut(pair: SlotPair, start: [UInt8], named name: String,
                              change: (inout BootTable) -> Void) throws -> Int {
        let clean = PowerCutStorage(start)
        let backend = GrubEnvironmentBackend(pair: pair, esp: "/unused", storage: clean)
        let before = try backend.read(pair).table
        var after = before
        change(&after)
        _ = try backend.write(after, to: pair)
        let newState = attributes(try backend.read(pair).table, pair)
        #expect(newState == attributes(after, pair))
        var checked = 0
        for step in 0..<clean.steps {
            for pattern in 0..<4 {
                let landing = Set((0..<2).filter { pattern & (1 << $0) != 0 })
                let storage = PowerCutStorage(start, cutAt: step, landing: landing)
                let cut = GrubEnvironmentBackend(pair: pair, esp: "/unused", storage: storage)
                #expect(throws: SlotError.self) { try cut.write(after, to: pair) }
                // Patterns beyond the sectors the write touched repeat an earlier one.
                guard pattern < 1 << storage.cutSectors else { continue }
                let reading = try cut.read(pair)
                let seen = attributes(reading.table, pair)
                #expect(seen == attributes(before, pair) || seen == newState,
                        "\(name): cut at step \(step), sectors \(landing.sorted()): \(seen) is neither \(attributes(before, pair)) nor \(newState)")
                if cut.choice(in: before) != nil && cut.choice(in: after) != nil {
                    #expect(cut.choice(in: reading.table) != nil)
                }
                checked += 1
            }
        }
        return checked
    }

    /// Others' variables long enough to push everything after them past byte 512.
    static let longForeignVariables: [GrubEnvironment.Variable] = [
        .init("saved_entry", String(repeating: "s", count: 300)),
        .init("kernel_args", String(repeating: "k", count: 250)),
    ]

    @Test func everyLifecycleStepSurvivesACutAtEveryPoint() throws {
        try Integration.requireGPTTools()
        let disk = try TestDisk()
        defer { disk.remove() }
        let pair = try SlotPair(disk: try Disk.probe(disk.path))
        let a = pair.a.partition.number, b = pair.b.partition.number

        var random = SplitMix64(seed: 0x6e76)
        var checked = 0
        for round in 0..<200 {
            func attributes() -> BootAttributes {
                BootAttributes(priority: UInt8(random.next() % 16), tries: UInt8(random.next() % 16), successful: random.next() % 2 == 0)
            }
            var startTable = [SlotName.a: attributes(), .b: attributes()]
            // Keep one slot bootable, as a running system's table is.
            if !startTable.values.contains(where: \.isBootable) { startTable[.a] = BootAttributes(priority: 1, tries: 0, successful: true) }
            // Tandem's layout, with others' variables after its own (some past byte 512) ...
            var base = GrubEnvironment(variables: round % 2 == 0 ? Self.longForeignVariables : [.init("saved_entry", "0")])
            var start = try #require(GrubBootVariables.encode(startTable, into: base).serialized())
            // ... or a block grub-editenv made, with Tandem's variables after the others.
            if round % 3 == 0 {
                let tandem = GrubBootVariables.encode(startTable, into: GrubEnvironment()).variables
                base = GrubEnvironment(variables: Self.longForeignVariables + tandem)
                start = try #require(base.serialized())
            }
            let operations: [(String, (inout BootTable) -> Void)] = [
                ("invalidate B", { $0.invalidate(b) }),
                ("trial B", { $0.setTrial(b, tries: UInt8(1 + round % 15)) }),
                ("good A", { $0.markGood(a) }),
                ("bad B", { $0.markBad(b) }),
                ("prioritize A", { $0.prioritize(a) }),
                ("boot", { _ = $0.takeNextBoot() }),
            ]
            let (name, operation) = operations[round % operations.count]
            checked += try Self.checkEveryCut(pair: pair, start: start, named: "round \(round), \(name)", change: operation)
        }
        #expect(checked > 400, "\(checked) interrupted writes checked")
    }

    /// Tries 10 to 9 shortens Tandem's lines and moves every later byte: the torn write can
    /// damage others' variables past byte 512, but never Tandem's.
    @Test func aValueOfAnotherLengthStillLeavesOldOrNew() throws {
        try Integration.requireGPTTools()
        let disk = try TestDisk()
        defer { disk.remove() }
        let pair = try SlotPair(disk: try Disk.probe(disk.path))
        let start = try #require(GrubBootVariables.encode(
            [.a: BootAttributes(priority: 1, tries: 0, successful: true), .b: BootAttributes(priority: 2, tries: 10, successful: false)],
            into: GrubEnvironment(variables: Self.longForeignVariables)).serialized())
        let checked = try Self.checkEveryCut(pair: pair, start: start, named: "boot from 10 tries") { _ = $0.takeNextBoot() }
        #expect(checked == 4)
    }

    /// The whole of Tandem's part, at its longest, fits in the first 512-byte sector.
    @Test func tandemsVariablesFitTheFirstSector() throws {
        let longest = GrubBootVariables.encode(
            [.a: BootAttributes(priority: 15, tries: 15, successful: true), .b: BootAttributes(priority: 15, tries: 15, successful: true)],
            into: GrubEnvironment(variables: [.init("TANDEM_BOOTED", "b"), .init("TANDEM_BOOTED_TRIAL", "1")]))
        let bytes = try #require(longest.serialized())
        let end = try #require(bytes[GrubEnvironment.signature.count...].firstIndex(of: UInt8(ascii: "#")))
        #expect(end == 173)
    }
}
