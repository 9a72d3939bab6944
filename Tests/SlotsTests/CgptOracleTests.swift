import Foundation
import Slots
import Testing
import TestSupport

/// cgpt, the ChromeOS reference tool for the priority/tries/successful bits, as a second oracle
/// for the gptprio backend: it reads what Tandem wrote, and its prioritize is the definition
/// Tandem's follows (as does Flatcar's GRUB).
struct CgptOracleTests {
    static let chromeOSKernelType = "fe3a2a5d-4f32-41a7-b725-accc3285a309"
    static let linuxDataType = "0fc63daf-8483-4772-8e79-3d69d8477de4"

    private static func requireCgpt() throws {
        try Integration.requireGPTTools()
        try Integration.require(Shell.which("cgpt"), "cgpt is missing (make deps installs it)")
    }

    /// (priority, tries, successful) of each partition as `cgpt show -i N -P/-T/-S` prints
    /// them: one shell for all the calls, so that a check costs one process start.
    private static func cgptShow(_ numbers: [Int], on disk: String) throws -> [Int: [Int]] {
        let script = numbers.flatMap { number in
            ["-P", "-T", "-S"].map { "cgpt show -i \(number) \($0) '\(disk)'" }
        }.joined(separator: " && ")
        let values = try Shell.run(["sh", "-c", script]).split(separator: "\n").map { Int($0) }
        guard values.count == numbers.count * 3, values.allSatisfy({ $0 != nil }) else {
            throw Shell.Failure(command: ["sh", "-c", script], output: .init(status: 0, stdout: "\(values)", stderr: ""))
        }
        return Dictionary(uniqueKeysWithValues: numbers.enumerated().map { index, number in
            (number, values[index * 3..<index * 3 + 3].map { $0 ?? -1 })
        })
    }

    @Test func cgptShowReadsWhatEveryOperationWrote() throws {
        try Self.requireCgpt()
        let disk = try TestDisk(sizeMiB: 4, layout: TestDisk.compactFlatcarLayout)
        defer { disk.remove() }
        let pair = try SlotPair(disk: try Disk.probe(disk.path))
        let control = try BootControl(pair: pair)
        let numbers = pair.slots.map(\.partition.number)
        var checks = 0
        func check(_ step: String) throws {
            let table = try control.read().table
            let shown = try Self.cgptShow(numbers, on: disk.path)
            for number in numbers {
                let tandem = table[number]
                #expect(shown[number] == [Int(tandem.priority), Int(tandem.tries), tandem.successful ? 1 : 0],
                        "after \(step): partition \(number): cgpt \(shown[number] ?? []), Tandem \(tandem)")
            }
            checks += 1
        }

        try check("nothing (as built)")
        for tries in UInt8(1)...BootAttributes.maximumTries {
            try control.invalidate(.b)
            try check("invalidate B")
            try control.setTrial(.b, tries: tries)
            try check("setTrial B \(tries)")
            // Boot B until its tries are used up; then A boots without using a try.
            var boots = 0
            while true {
                let boot = try control.nextBoot(commit: true)
                try check("nextBoot --commit (\(boot.slot.name))")
                if boot.slot.name == .a { break }
                boots += 1
            }
            #expect(boots == Int(tries))
            if tries % 2 == 0 {
                try control.setTrial(.b, tries: 1)
                try control.markGood(.b)
                try check("markGood B")
                try control.prioritize(.a)
                try check("prioritize A")
                try control.prioritize(.b)
                try check("prioritize B")
                try control.markGood(.a)
                try check("markGood A")
            } else {
                try control.markBad(.b)
                try check("markBad B")
            }
        }
        #expect(checks > 150)
        #expect(try disk.sgdiskVerifies().clean)
    }

    /// On ChromeOS kernel partitions, `cgpt prioritize -i N [-P max]` and Tandem's prioritize,
    /// each on its own copy of the same randomized table, leave identical 64-bit attributes in
    /// every entry. Partition 6 is never a kernel partition and partitions 3-5 sometimes are
    /// not: neither tool may touch them.
    @Test func prioritizeGivesCgptsBitsOnRandomTables() throws {
        try Self.requireCgpt()
        let template = try TestDisk(sizeMiB: 1, layout: [
            "-o", "-a", "8",
            "-n", "1:0:+64K", "-t", "1:\(Self.chromeOSKernelType)", "-c", "1:KERN-A",
            "-n", "2:0:+64K", "-t", "2:\(Self.chromeOSKernelType)", "-c", "2:KERN-B",
            "-n", "3:0:+64K", "-t", "3:\(Self.chromeOSKernelType)", "-c", "3:KERN-C",
            "-n", "4:0:+64K", "-t", "4:\(Self.chromeOSKernelType)", "-c", "4:KERN-D",
            "-n", "5:0:+64K", "-t", "5:\(Self.chromeOSKernelType)", "-c", "5:KERN-E",
            "-n", "6:0:+64K", "-t", "6:\(Self.linuxDataType)", "-c", "6:DATA",
        ])
        defer { template.remove() }
        let layout = SlotLayout(labelA: "KERN-A", labelB: "KERN-B", typeGUID: GUID(Self.chromeOSKernelType)!,
                                minimumSize: 64 << 10)
        let cgptCopy = template.directory.appendingPathComponent("cgpt.img").path
        let tandemCopy = template.directory.appendingPathComponent("tandem.img").path
        let pristine = try GPTImage(contentsOf: template.path)
        let linuxData = GUID(Self.linuxDataType)!.diskBytes
        func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
            bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        var random = SplitMix64(seed: 0x7A4D_E13C_9A11_2026)
        var tables = 0, withZero = 0, withTies = 0, withMaximum = 0
        for _ in 0..<200 {
            var image = pristine
            var kernels = [1, 2]
            for number in 1...6 {
                // Any other bits, to prove both keep them; priorities crowd into a few values
                // so that ties and zeros are common.
                var attributes = BootAttributes(rawValue: random.next())
                attributes.priority = [0, 0, 1, 1, 2, 3, 7, 15, UInt8(random.next() % 16)][Int(random.next() % 9)]
                image.set(entry: number, .attributes, attributes.rawValue)
                if (3...5).contains(number) {
                    if random.next() % 3 == 0 {
                        image.set(entry: number, .typeGUIDLow, littleEndian(linuxData[0..<8]))
                        image.set(entry: number, .typeGUIDHigh, littleEndian(linuxData[8..<16]))
                    } else {
                        kernels.append(number)
                    }
                }
            }
            image.reseal()
            try image.write(to: cgptCopy)
            try image.write(to: tandemCopy)

            let chosen = kernels[Int(random.next() % UInt64(kernels.count))]
            let maximum: UInt8? = random.next() % 4 == 0 ? UInt8(1 + random.next() % 15) : nil
            try Shell.run(["cgpt", "prioritize", "-i", "\(chosen)"] + (maximum.map { ["-P", "\($0)"] } ?? []) + [cgptCopy])

            let before = try Disk.probe(tandemCopy)
            let pair = try SlotPair(disk: before, layout: layout)
            let change = try BootControl(pair: pair).update { $0.prioritize(chosen, maximumPriority: maximum) }

            let byCgpt = try Disk.probe(cgptCopy).partitions.map { ($0.number, $0.attributes.rawValue) }
            let byTandem = try Disk.probe(tandemCopy).partitions.map { ($0.number, $0.attributes.rawValue) }
            let same = byCgpt.map(\.0) == byTandem.map(\.0) && byCgpt.map(\.1) == byTandem.map(\.1)
            #expect(same, """
                prioritize \(chosen) (maximum \(maximum.map { "\($0)" } ?? "none")) of kernels \(kernels) \
                with priorities \(kernels.map { change.before[$0].priority }): \
                cgpt \(byCgpt.map { "\($0.0):\(BootAttributes(rawValue: $0.1).priority)" }), \
                Tandem \(byTandem.map { "\($0.0):\(BootAttributes(rawValue: $0.1).priority)" })
                """)
            if !same { break }

            tables += 1
            let priorities = kernels.map { change.before[$0].priority }
            if priorities.contains(0) { withZero += 1 }
            if Set(priorities).count < priorities.count { withTies += 1 }
            if maximum != nil { withMaximum += 1 }
        }
        #expect(tables == 200)
        #expect(withZero > 40 && withTies > 40 && withMaximum > 20, "coverage: \(withZero) \(withTies) \(withMaximum)")
    }
}
