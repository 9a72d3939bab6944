import Foundation
import Testing
import UpdateModel
@testable import Engine

/// The quarantine's rules on their own: no disk, no daemon.
@Suite struct QuarantineTests {
    static func entry(_ version: String, _ reason: FallbackReason = .triesExhausted, time: Int64 = 1) -> QuarantinedVersion {
        QuarantinedVersion(version: version, reason: reason, slot: .b, bootID: "boot", time: time)
    }

    @Test func versionsMatchAsVersionsNotAsText() {
        let quarantine: Quarantine = [Self.entry("2.0.0")]
        #expect(quarantine.entry(for: "2.0")?.version == "2.0.0")
        #expect(quarantine.entry(for: "2.0.0.0")?.version == "2.0.0")
        #expect(quarantine.entry(for: "2.0.1") == nil)
    }

    @Test func aSecondFallbackOfAVersionReplacesItsEntry() {
        var quarantine: Quarantine = [Self.entry("1.0.0"), Self.entry("2.0.0")]
        quarantine.add(Self.entry("2.0", .markedBad, time: 9))
        #expect(quarantine.map(\.version) == ["1.0.0", "2.0"])
        #expect(quarantine.entry(for: "2.0.0")?.reason == .markedBad && quarantine.entry(for: "2.0.0")?.time == 9)
    }

    @Test func removeSaysWhetherTheVersionWasThere() {
        var quarantine: Quarantine = [Self.entry("2.0.0"), Self.entry("3.0.0")]
        let first = quarantine.remove("2.0")
        let second = quarantine.remove("2.0.0")
        #expect(first && !second)
        #expect(quarantine.map(\.version) == ["3.0.0"])
    }

    @Test func theVerdictOnAnOffer() {
        let quarantine: Quarantine = [Self.entry("2.0.0")]
        #expect(quarantine.verdict(for: "3.0.0", force: false) == .allowed)
        #expect(quarantine.verdict(for: "2.0.0", force: false) == .refused(Self.entry("2.0.0")))
        #expect(quarantine.verdict(for: "2.0.0", force: true) == .overridden(Self.entry("2.0.0")))
    }

    @Test func aRefusalSaysWhatFailedAndBothWaysOut() {
        let text = Quarantine.installRefusal(Self.entry("2.0.0", .verificationFailed))
        #expect(text.contains("version 2.0.0 is quarantined") && text.contains("slot B"))
        #expect(text.contains(FallbackReason.verificationFailed.displayText) && text.contains("nothing was written"))
        #expect(text.contains("--force") && text.contains("updatectl unquarantine 2.0.0"))
        let skipped = Quarantine.skipped("no update: the server offers version 2.0.0", Self.entry("2.0.0"))
        #expect(skipped.hasPrefix("no update: the server offers version 2.0.0, which is quarantined"))
        #expect(skipped.contains("updatectl unquarantine 2.0.0"))
    }

    /// An older tandemd, after a fallback, reads the list as it always was: a JSON array.
    @Test func theSavedFormIsStillAnArrayOfEntries() throws {
        var state = DaemonState()
        state.quarantine.add(Self.entry("2.0.0"))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(state)) as? [String: Any]
        let saved = try #require(json?["quarantine"] as? [[String: Any]])
        #expect(saved.count == 1 && saved.first?["version"] as? String == "2.0.0" && saved.first?["reason"] as? String == "tries-exhausted")
        #expect(try JSONDecoder().decode(DaemonState.self, from: JSONEncoder().encode(state)).quarantine == state.quarantine)
    }
}
