import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// Random mutations of GPT header and entry fields, with every CRC recomputed so that they reach
/// the parser, on a real Flatcar-layout image built by sgdisk. Each image goes through what
/// `disk show`, `next-boot --commit`, `mark B bad`, `repair` and `install --booted-slot A` do,
/// in process (a trap would kill the test runner: that is the crash assertion), and a sample
/// through the real updatectl. Afterwards no byte may differ outside the GPT areas and slot B.
@Suite(.serialized)
struct GPTMutationTests {
    static let images = 2000
    static let seed: UInt64 = 0x7A4D_E412
    /// Every this many images also go through the updatectl binary.
    static let binaryEvery = 100

    /// The disk everything starts from, with what the oracle needs to know about it. Read-only
    /// once made, so the workers share it.
    final class Fixture: @unchecked Sendable {
        let disk: TestDisk
        let pristine: GPTImage
        let partitions: [TestDisk.SfdiskPartition]
        let bundles: BundleFixture
        let bundle: String
        let trust: TrustStore
        let work: String

        init() throws {
            disk = try TestDisk(sizeMiB: 3, layout: TestDisk.compactFlatcarLayout)
            pristine = try GPTImage(contentsOf: disk.path)
            partitions = try disk.sfdiskPartitions()
            bundles = try BundleFixture()
            // Chunks as small as the installer's 64 KiB buffers below: a buffer holds whole chunks.
            bundle = try bundles.bundle("v2.tandem", image: try bundles.randomImage("image.raw", size: 64 << 10), chunkSize: 64 << 10)
            trust = try bundles.trust
            let shm = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
            work = shm + "/tandem-mutation-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        }

        deinit {
            disk.remove()
            try? FileManager.default.removeItem(atPath: work)
        }

        /// Values a hostile or broken table would hold: boundaries of the disk, the GPT and the
        /// partitions, the edges of 32- and 64-bit arithmetic, and random ones.
        func interestingValue(_ random: inout SplitMix64) -> UInt64 {
            let sectors = pristine.sectorCount
            let boundaries = partitions.flatMap { [$0.start, $0.start + $0.size - 1] }
            var candidates: [UInt64] = [0, 1, 2, 33, 34, 35, 127, 128, 136, 256, sectors - 34, sectors - 33, sectors - 1, sectors,
                                        sectors + 1, 1 << 31, 0xFFFF_FFF8, 0xFFFF_FFFF, 1 << 32, 1 << 62, (1 << 63) - 1, 1 << 63,
                                        UInt64.max - 1, UInt64.max]
            candidates += boundaries.flatMap { [$0 &- 1, $0, $0 &+ 1] }
            switch random.next() % 4 {
            case 0: return random.next()
            case 1: return random.next() % sectors
            default: return candidates[Int(random.next() % UInt64(candidates.count))]
            }
        }

        /// One to three mutations of header or entry fields, in one copy or both, resealed.
        func mutate(_ random: inout SplitMix64) -> GPTImage {
            var image = pristine
            for _ in 0...(random.next() % 3) {
                let copies: [GPTImage.Copy] = [[.primary], [.backup], [.primary, .backup]][Int(random.next() % 3)]
                let value = interestingValue(&random)
                if random.next() % 3 == 0 {
                    let field = GPTImage.HeaderField.allCases[Int(random.next() % UInt64(GPTImage.HeaderField.allCases.count))]
                    for copy in copies { image[copy, field] = value }
                } else {
                    let numbers = [1, 2, 3, 4, 5, 6, 9, Int(random.next() % 128) + 1]
                    let number = numbers[Int(random.next() % UInt64(numbers.count))]
                    let field = GPTImage.EntryField.allCases[Int(random.next() % UInt64(GPTImage.EntryField.allCases.count))]
                    let usrType = GUID.flatcarUsr.diskBytes
                    let typeHalf = { (bytes: ArraySlice<UInt8>) in bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
                    let entryValue: UInt64 = switch field {
                    case .typeGUIDLow: [0, typeHalf(usrType[0..<8]), value][Int(random.next() % 3)]
                    case .typeGUIDHigh: [0, typeHalf(usrType[8..<16]), value][Int(random.next() % 3)]
                    case .attributes: random.next() % 2 == 0 ? value : image[.primary, entry: number, .attributes] ^ (1 << (random.next() % 64))
                    default: value
                    }
                    for copy in copies { image[copy, entry: number, field] = entryValue }
                }
            }
            image.reseal()
            return image
        }

        /// Sectors that may change: the GPT's own areas (where sgdisk put them and wherever a
        /// mutated header says they are) and slot B (where it was and wherever a mutated entry
        /// says it is); never LBA 0 or any other partition as it was.
        func writable(_ image: GPTImage) -> [Bool] {
            let sectors = Int(image.sectorCount)
            var mask = [Bool](repeating: false, count: sectors)
            func allow(_ first: UInt64, _ count: UInt64) {
                guard first < UInt64(sectors), count > 0 else { return }
                let (end, overflow) = first.addingReportingOverflow(count - 1)
                let last = overflow ? UInt64(sectors) - 1 : min(UInt64(sectors) - 1, end)
                for lba in Int(first)...Int(last) { mask[lba] = true }
            }
            allow(1, 33)
            allow(UInt64(sectors) - 33, 33)
            for copy in GPTImage.Copy.allCases {
                allow(image[copy, .alternateLBA], 1)
                let bytes = image[copy, .entryCount].multipliedReportingOverflow(by: image[copy, .entrySize])
                if !bytes.overflow, bytes.partialValue <= 4 << 20 {
                    allow(image[copy, .entriesLBA], (bytes.partialValue + 511) / 512)
                }
                let first = image[copy, entry: 4, .firstLBA], last = image[copy, entry: 4, .lastLBA]
                if first <= last { allow(first, last - first == UInt64.max ? UInt64.max : last - first + 1) }
            }
            if let b = partitions.first(where: { $0.number == 4 }) { allow(b.start, b.size) }
            mask[0] = false
            for partition in partitions where partition.number != 4 {
                for lba in Int(partition.start)..<Int(partition.start + partition.size) { mask[lba] = false }
            }
            return mask
        }

        /// Sectors outside `writable` whose bytes differ between `before` and `after`.
        func forbiddenChanges(_ before: GPTImage, _ after: [UInt8]) -> [Int] {
            let mask = writable(before)
            guard after.count == before.bytes.count else { return [-1] }
            return before.bytes.withUnsafeBytes { old in
                after.withUnsafeBytes { new in
                    (0..<mask.count).filter { lba in
                        !mask[lba] && memcmp(old.baseAddress! + lba * 512, new.baseAddress! + lba * 512, 512) != 0
                    }
                }
            }
        }
    }

    enum Outcome { case accepted, refused }

    /// What updatectl's disk commands do, through the library, as each calls it.
    static func runInProcess(_ path: String, _ fixture: Fixture) -> Outcome {
        if let disk = try? Disk.probe(path) {
            _ = try? disk.tableProblems()
            _ = try? SlotPair(disk: disk)
        }
        _ = try? BootControl(pair: try SlotPair(disk: try Disk.probe(path))).nextBoot(commit: true)
        _ = try? BootControl(pair: try SlotPair(disk: try Disk.probe(path))).markBad(.b)
        _ = try? BootControl(pair: try SlotPair(disk: try Disk.probe(path))).repair()
        var options = InstallOptions(host: HostIdentity(compatible: BundleFixture.compatible, version: "1.5.0"))
        options.directIO = false
        options.diskLockTimeout = 5
        options.chunkSize = 64 << 10
        options.bufferCount = 2
        do {
            let booted = try BootedSlot.locate(disk: path, bootedSlot: "A")
            _ = try Installer(booted: booted, trust: fixture.trust, options: options).install(fixture.bundle)
            return .accepted
        } catch {
            return .refused
        }
    }

    /// The same through the updatectl binary: every command ends with exit 0 or 1, never a signal.
    static func runBinary(_ path: String, stateDirectory: String, _ fixture: Fixture) throws -> [String] {
        let updatectl = BuiltExecutable.path("updatectl")
        let commands: [[String]] = [
            ["disk", "show", path], ["disk", "next-boot", path, "--commit"], ["disk", "mark", path, "B", "bad"],
            ["disk", "repair", path],
            ["disk", "install", path, fixture.bundle, "--keys", fixture.bundles.keysDirectory, "--booted-slot", "A",
             "--compatible", BundleFixture.compatible, "--current-version", "1.5.0", "--state-dir", stateDirectory],
        ]
        return try commands.compactMap { arguments in
            let output = try Shell.capture([updatectl] + arguments)
            return output.status == 0 || output.status == 1 ? nil : "\(arguments[1]) exited \(output.status): \(output.stderr)"
        }
    }

    /// Image `index`: mutated, run in process (and through updatectl for a sample), checked.
    static func check(image index: Int, at path: String, _ fixture: Fixture) throws -> Outcome {
        // Each image has its own generator, seeded from the test's seed and its number, so that
        // a failing image number reproduces on its own, whichever worker ran it.
        var random = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        let image = fixture.mutate(&random)
        try image.write(to: path)
        let outcome = runInProcess(path, fixture)
        let changed = fixture.forbiddenChanges(image, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(changed.isEmpty, "image \(index): sectors \(changed.prefix(8)) changed outside the GPT areas and slot B")

        if index % binaryEvery == 0 {
            try image.write(to: path)
            let failures = try runBinary(path, stateDirectory: path + ".state", fixture)
            #expect(failures.isEmpty, "image \(index) through updatectl: \(failures)")
            let changedByBinary = fixture.forbiddenChanges(image, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(changedByBinary.isEmpty, "image \(index) through updatectl: sectors \(changedByBinary.prefix(8)) changed")
        }
        return outcome
    }

    @Test(.timeLimit(.minutes(3)))
    func mutatedTablesNeverTrapAndNeverWriteOutsideTheGPTAndTheTarget() throws {
        try Integration.requireGPTTools()
        let fixture = try Fixture()
        let started = Date()
        // One image file per worker; the images are independent, so the order does not matter.
        let workers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let counts = NSLock()
        nonisolated(unsafe) var accepted = 0, refused = 0
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: Self.images, by: workers) {
                do {
                    let outcome = try Self.check(image: index, at: fixture.work + "/disk\(worker).img", fixture)
                    counts.lock()
                    if outcome == .accepted { accepted += 1 } else { refused += 1 }
                    counts.unlock()
                } catch {
                    Issue.record("image \(index): \(error)")
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("GPT mutation test: \(Self.images) images, \(refused) refused, \(accepted) accepted, 0 crashes "
              + "(\(Self.images / Self.binaryEvery) also through updatectl; seed \(Self.seed), \(workers) workers, \(Int(seconds)) s)")
        #expect(accepted + refused == Self.images)
        #expect(accepted > 0 && refused > 0, "the mutations reach both outcomes")
    }
}
