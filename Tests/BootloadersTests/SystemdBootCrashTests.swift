import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// A power cut before every file step of every operation: the ESP must then read as a state
/// whose systemd-boot choice is the old one or the new one, and some slot must still boot.
struct SystemdBootCrashTests {
    struct PowerCut: Error {}

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var entries: [String]
        var first: String?
        var operation: @Sendable (BootControl) throws -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "trial of an invalid B", entries: ["tandem-a.conf"], first: "a") { try $0.setTrial(.b, tries: 3) },
        Case(name: "trial of a good B behind A", entries: ["tandem-a.conf", "tandem-b.conf"], first: "a") { try $0.setTrial(.b, tries: 2) },
        Case(name: "trial of A behind a good B", entries: ["tandem-a.conf", "tandem-b.conf"], first: "b") { try $0.setTrial(.a, tries: 1) },
        Case(name: "mark good", entries: ["tandem-a.conf", "tandem-b+1-2.conf"], first: "b") { try $0.markGood(.b) },
        Case(name: "mark good of A behind B", entries: ["tandem-a+2-0.conf", "tandem-b.conf"], first: "b") { try $0.markGood(.a) },
        Case(name: "mark bad", entries: ["tandem-a.conf", "tandem-b+0-3.conf"], first: "b") { try $0.markBad(.b) },
        Case(name: "mark bad of the first slot", entries: ["tandem-a.conf", "tandem-b.conf"], first: "b") { try $0.markBad(.b) },
        Case(name: "invalidate", entries: ["tandem-a.conf", "tandem-b.conf"], first: "a") { try $0.invalidate(.b) },
        Case(name: "prioritize", entries: ["tandem-a.conf", "tandem-b.conf"], first: "b") { try $0.prioritize(.a) },
        Case(name: "prioritize a trial", entries: ["tandem-a.conf", "tandem-b+2-0.conf"], first: "a") { try $0.prioritize(.b) },
        Case(name: "next boot", entries: ["tandem-a.conf", "tandem-b+2-0.conf"], first: "b") { try $0.nextBoot(commit: true) },
        Case(name: "repair of a missing loader.conf", entries: ["tandem-a.conf", "tandem-b.conf"], first: nil) { _ = try $0.repair() },
    ]

    @Test(arguments: cases)
    func aPowerCutBeforeAnyStepLeavesTheOldOrTheNewChoice(_ testCase: Case) throws {
        let fixture = try SystemdBootFixture()
        try fixture.layOut(entries: testCase.entries, first: testCase.first)
        if testCase.first == nil { try FileManager.default.removeItem(atPath: fixture.esp + "/loader/loader.conf") }
        let old = try fixture.control().nextBoot(commit: false)

        var steps = 0
        try testCase.operation(fixture.control(fixture.backend { _ in steps += 1 }))
        let new = try? fixture.control().nextBoot(commit: false)
        let newNames = try fixture.entryNames()
        #expect(steps > 0)

        for cut in 0..<steps {
            try fixture.layOut(entries: testCase.entries, first: testCase.first)
            if testCase.first == nil { try FileManager.default.removeItem(atPath: fixture.esp + "/loader/loader.conf") }
            var taken = 0
            let backend = fixture.backend { step in
                if taken == cut { throw PowerCut() }
                taken += 1
            }
            #expect(throws: PowerCut.self) { try testCase.operation(fixture.control(backend)) }
            let names = try fixture.entryNames()
            let after = try fixture.control().nextBoot(commit: false)
            let allowed = [old.slot.name, new?.slot.name].compactMap { $0 }
            #expect(allowed.contains(after.slot.name), "cut before step \(cut): \(names) boots \(after.slot.name)")
            // The names are the old ones, the new ones, or one slot's change of the two.
            #expect(names.allSatisfy { testCase.entries.contains($0) || newNames.contains($0) || $0.contains(".tmp-") },
                    "cut before step \(cut): \(names)")
        }
        // Finishing the interrupted write gives the same result as an uninterrupted one.
        try testCase.operation(fixture.control())
        #expect(try fixture.entryNames() == newNames)
    }
}
