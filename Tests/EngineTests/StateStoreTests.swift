@testable import Engine
import TestSupport
import Foundation
import Testing

@Suite struct StateStoreTests {
    /// Every field set, none to its default, so that a field lost in encoding shows.
    static let populated: DaemonState = {
        var state = DaemonState()
        state.transaction = TransactionRecord(
            id: "00c0ffee12345678", source: "https://updates.example.com/b.tandem", startTime: 1_780_000_000,
            bootID: "2f1b1d6a-3c5e-4d7f-9a8b-0c1d2e3f4a5b", version: "3975.2.1", imageSize: 1 << 30, targetSlot: .b,
            stoppedAt: 1_780_000_123, slotChoice: .b, verifyReadback: false, force: true, completion: .staged, trigger: .scheduled)
        state.lastResult = ResultRecord(
            transaction: "0123456789abcdef", code: .interrupted, message: "tandemd was stopped; resuming",
            version: "3975.1.0", time: 1_779_999_000, bootID: "1e2d3c4b-0000-1111-2222-333344445555")
        state.pendingReboot = PendingReboot(slot: .a, version: "3975.1.0", imageSize: 512 << 20,
                                            bootID: "1e2d3c4b-0000-1111-2222-333344445555", time: 1_779_999_500)
        state.lastCheckTime = 1_779_998_000
        state.slotVersions = [
            "7130c94a-213a-4e5a-8e26-6cce9662f132": InstalledImage(version: "3975.1.0", sha256: String(repeating: "ab", count: 32),
                                                                   time: 1_779_999_400),
            "e03dd35c-7c2d-4a47-b3fe-27f15780a57c": InstalledImage(version: "3940.0.0", sha256: String(repeating: "cd", count: 32),
                                                                   time: 1_770_000_000),
        ]
        return state
    }()

    @Test func aMissingFileIsAFreshStart() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.file("not-yet-created"))
        let state = try store.load().state
        #expect(state == DaemonState())
        #expect(state.transaction == nil)
        #expect(state.lastResult == nil)
        #expect(state.pendingReboot == nil)
        #expect(state.lastCheckTime == 0)
        #expect(state.slotVersions.isEmpty)
    }

    @Test func thePathIsStateJSONInTheDirectory() {
        #expect(StateStore(directory: "/var/lib/tandem").path == "/var/lib/tandem/state.json")
    }

    @Test func aFullyPopulatedStateRoundTrips() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try store.save(Self.populated)
        #expect(try store.load().state == Self.populated)
        // A fresh store on the same directory (a restart) reads the same.
        #expect(try StateStore(directory: directory.path).load().state == Self.populated)
    }

    @Test func absentOptionalFieldsRoundTrip() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        var state = DaemonState()
        state.transaction = TransactionRecord(id: "1", source: "/b", startTime: 1, bootID: "x", version: nil, imageSize: nil,
                                              targetSlot: nil, stoppedAt: nil, slotChoice: .auto, verifyReadback: true)
        state.pendingReboot = PendingReboot(slot: .b, version: "2", imageSize: nil, bootID: "x", time: 2)
        try store.save(state)
        #expect(try store.load().state == state)
    }

    @Test func saveCreatesTheDirectory() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.file("var/lib/tandem"))
        try store.save(Self.populated)
        #expect(FileManager.default.fileExists(atPath: directory.file("var/lib/tandem/state.json")))
    }

    @Test func aLaterSaveReplacesTheEarlierOne() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try store.save(Self.populated)
        var later = Self.populated
        later.transaction = nil
        later.lastCheckTime += 60
        try store.save(later)
        #expect(try store.load().state == later)
    }

    /// Temp file, fsync, rename: after a save only state.json is left, and it holds complete,
    /// valid JSON with sorted keys (stable, diffable output).
    @Test func theFileIsReplacedAtomically() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        for round in 0..<3 {
            var state = Self.populated
            state.lastCheckTime += Int64(round)
            try store.save(state)
            #expect(directory.contents == ["state.json"])
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: store.path))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // `omaha` and `rebootLockHeld` always have a value; optional fields that are nil are left out.
        #expect(Set(object.keys) == ["version", "lastCheckTime", "lastResult", "pendingReboot", "slotVersions", "transaction", "quarantine", "omaha",
                                     "rebootLockHeld"])
        #expect(object["lastCheckTime"] as? Int == 1_779_998_002)
        #expect(object["version"] as? Int == DaemonState.formatVersion)

        let text = try #require(String(data: data, encoding: .utf8))
        // Pretty-printed: the top-level keys are the ones indented by two spaces.
        let topLevelKeys = ["lastCheckTime", "lastResult", "pendingReboot", "slotVersions", "transaction"]
        let offsets = try topLevelKeys.map { key in try #require(text.range(of: "\n  \"\(key)\"")).lowerBound }
        #expect(offsets == offsets.sorted(), "keys are written in sorted order")
        let transaction = try #require(object["transaction"] as? [String: Any])
        #expect(transaction["verifyReadback"] as? Bool == false)
        #expect(transaction["slotChoice"] as? String == "B")
        let last = try #require(object["lastResult"] as? [String: Any])
        // The code is stored as its number, which is API.
        #expect(last["code"] as? Int == 3)
    }

    @Test func theFileIsReadableByAll() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try store.save(Self.populated)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        let permissions = try #require(attributes[.posixPermissions] as? Int)
        #expect(permissions & 0o777 == 0o644)
    }

    /// Not JSON state at all: moved aside, so that tandemd starts (and can bless this boot).
    @Test(arguments: ["{ not json", "", "[]", "{\"lastCheckTime\": 1", "\u{7f}ELF\u{0}\u{1}junk"])
    func anUnreadableFileIsMovedAside(contents: String) throws {
        let directory = try Scratch()
        let path = try directory.write(contents, to: "state.json")
        let store = StateStore(directory: directory.path)
        let loaded = try store.load()
        #expect(loaded.state == DaemonState())
        let aside = try #require(loaded.setAside)
        #expect(aside.path.hasPrefix(path + ".broken-") && aside.reason.contains("not JSON state"))
        // The evidence stays for the administrator, under its new name; state.json is gone.
        #expect(try String(contentsOfFile: aside.path, encoding: .utf8) == contents)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(directory.contents == ["state.json.broken-" + String(aside.path.split(separator: "-").last ?? "")])
    }

    /// A record of the wrong shape is dropped on its own; the rest of the file stands.
    @Test func aMalformedRecordIsDroppedAlone() throws {
        let directory = try Scratch()
        _ = try directory.write("""
            {"lastCheckTime": "yesterday", "trial": {"slot": 5}, "lastResult": {"code": 99},
             "pendingReboot": {"slot": "B", "version": "2.0.0", "bootID": "x", "time": 1},
             "quarantine": [{"version": "1.0.0"}, {"version": "2.0.0", "reason": "marked bad", "slot": "B", "bootID": "y", "time": 2}],
             "slotVersions": {"u1": {"version": 7}, "u2": {"version": "3.0.0", "time": 3}}}
            """, to: "state.json")
        let loaded = try StateStore(directory: directory.path).load()
        #expect(loaded.setAside == nil)
        let state = loaded.state
        #expect(state.lastCheckTime == 0 && state.trial == nil && state.lastResult == nil)
        #expect(state.pendingReboot == PendingReboot(slot: .b, version: "2.0.0", imageSize: nil, bootID: "x", time: 1))
        #expect(state.quarantine == [QuarantinedVersion(version: "2.0.0", reason: .markedBad, slot: .b, bootID: "y", time: 2)])
        #expect(state.slotVersions == ["u2": InstalledImage(version: "3.0.0", sha256: nil, time: 3)])
    }

    /// A file from before the format had a version still loads.
    @Test func aPreVersionedFileLoads() throws {
        let directory = try Scratch()
        _ = try directory.write("""
            {"lastCheckTime": 5, "omaha": {"rollbackPending": true}, "quarantine": [], "rebootLockHeld": true,
             "slotVersions": {}}
            """, to: "state.json")
        let state = try StateStore(directory: directory.path).load().state
        #expect(state.lastCheckTime == 5 && state.omaha.rollbackPending && state.rebootLockHeld)
    }

    /// The next version's state: loads, unknown values decode as `unknown` with their text,
    /// and a rewrite keeps its top-level fields and its unknown values.
    @Test func theNextVersionsStateLoadsAndSurvivesARewrite() throws {
        let directory = try Scratch()
        let next = NextVersionState.upgrade(try Self.asJSON(Self.populated), bootID: "this-boot")
        _ = try directory.write(String(decoding: try JSONSerialization.data(withJSONObject: next), as: UTF8.self), to: "state.json")
        let store = StateStore(directory: directory.path)
        let loaded = try store.load()
        #expect(loaded.setAside == nil)
        let state = loaded.state
        #expect(state.transaction == Self.populated.transaction && state.pendingReboot == Self.populated.pendingReboot)
        #expect(state.slotVersions == Self.populated.slotVersions)
        #expect(state.quarantine.map(\.reason) == [.unknown(NextVersionState.newFallbackReason)])
        #expect(state.lastBoot?.kind == .unknown(NextVersionState.newBootKind))
        #expect(state.lastBoot?.reason == .unknown(NextVersionState.newFallbackReason))
        #expect(state.lastCheck?.result == .unknown(NextVersionState.newCheckResult))
        #expect(state.lastResult?.code == .unknown(Int32(NextVersionState.newResultCode)))
        #expect(state.lastResult?.code.name == "result 42")
        #expect(Set(state.unknownFields.keys) == ["fleetPolicy", "attestations"])

        try store.save(state)
        let rewritten = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store.path)))
            as? [String: Any])
        #expect(rewritten["version"] as? Int == DaemonState.formatVersion, "the writer's own version")
        let policy = try #require(rewritten["fleetPolicy"] as? [String: Any])
        #expect(policy["ring"] as? String == "canary" && policy["weights"] as? [Int] == [1, 2, 3])
        let attestations = try #require(rewritten["attestations"] as? [[String: Any]])
        #expect(attestations.first?["pcr"] as? Int == 11)
        #expect((rewritten["lastResult"] as? [String: Any])?["code"] as? Int == NextVersionState.newResultCode)
        #expect((rewritten["lastBoot"] as? [String: Any])?["kind"] as? String == NextVersionState.newBootKind)
        #expect((rewritten["lastCheck"] as? [String: Any])?["result"] as? String == NextVersionState.newCheckResult)
        #expect(try store.load().state == state)
    }

    /// Reasons are machine identifiers in state.json, slots their names; the display text is
    /// only for people. The previous tandemd wrote the display text, which still reads.
    /// The options were optional booleans, written only when true; the typed record keeps that
    /// form both ways, so that an older tandemd resumes a newer one's install as it was started.
    @Test func aTransactionsOptionsKeepTheirJSONForm() throws {
        var record = TransactionRecord(id: "1", source: "/b", startTime: 1, bootID: "x", slotChoice: .auto, verifyReadback: true)
        let plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any] ?? [:]
        #expect(plain["force"] == nil && plain["stageOnly"] == nil && plain["scheduled"] == nil, "\(plain)")
        record.force = true
        record.completion = .staged
        record.trigger = .scheduled
        let set = try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any] ?? [:]
        #expect(set["force"] as? Bool == true && set["stageOnly"] as? Bool == true && set["scheduled"] as? Bool == true, "\(set)")
        let old = #"{"id":"1","source":"/b","startTime":1,"bootID":"x","slotChoice":"auto","verifyReadback":true,"#
            + #""force":false,"stageOnly":true,"scheduled":null}"#
        let read = try JSONDecoder().decode(TransactionRecord.self, from: Data(old.utf8))
        #expect(!read.force && read.completion == .staged && read.trigger == .onDemand)
    }

    @Test func fallbackReasonsAreStableIdentifiersAndTheOldProseStillReads() throws {
        var state = DaemonState()
        state.quarantine = Quarantine(FallbackReason.allCases.map {
            QuarantinedVersion(version: "2.0.0", reason: $0, slot: .b, bootID: "x", time: 1)
        })
        let json = try Self.asJSON(state)
        let written = try #require(json["quarantine"] as? [[String: Any]])
        #expect(written.map { $0["reason"] as? String } == ["tries-exhausted", "marked-bad", "verification-failed", "not-chosen"])
        #expect(written.allSatisfy { $0["slot"] as? String == "B" })
        #expect(FallbackReason.allCases.map(\.displayText)
                == ["tries exhausted", "marked bad", "verification failed", "not chosen by the bootloader"])

        let directory = try Scratch()
        _ = try directory.write("""
            {"quarantine": [{"version": "1.0.0", "reason": "tries exhausted", "slot": "A", "bootID": "y", "time": 2},
                            {"version": "1.1.0", "reason": "verification failed", "slot": "B", "bootID": "y", "time": 3},
                            {"version": "1.2.0", "reason": "rolled-back-by-fleet", "slot": "B", "bootID": "y", "time": 4}],
             "lastBoot": {"kind": "fallback", "bootedSlot": "A", "version": "1.0.0", "reason": "marked bad", "bootID": "y",
                          "time": 2, "message": "m"}}
            """, to: "state.json")
        let loaded = try StateStore(directory: directory.path).load().state
        #expect(loaded.quarantine.map(\.reason) == [.triesExhausted, .verificationFailed, .unknown("rolled-back-by-fleet")])
        #expect(loaded.quarantine.map(\.slot) == [.a, .b, .b])
        #expect(loaded.lastBoot?.reason == .markedBad)
        // Rewritten with identifiers; a newer tandemd's reason is kept as it was.
        let rewritten = try #require(try Self.asJSON(loaded)["quarantine"] as? [[String: Any]])
        #expect(rewritten.map { $0["reason"] as? String } == ["tries-exhausted", "verification-failed", "rolled-back-by-fleet"])
    }

    /// A slot name this tandemd does not know is never read as A: the record is dropped alone.
    @Test func anUnknownSlotNameIsNotReadAsA() throws {
        let directory = try Scratch()
        _ = try directory.write("""
            {"pendingReboot": {"slot": "C", "version": "2.0.0", "bootID": "x", "time": 1},
             "trial": {"slot": "", "version": "2.0.0", "bootID": "x", "installBootID": "w", "since": 1},
             "quarantine": [{"version": "1.0.0", "reason": "tries-exhausted", "slot": "c", "bootID": "y", "time": 2}]}
            """, to: "state.json")
        let loaded = try StateStore(directory: directory.path).load().state
        #expect(loaded.pendingReboot == nil && loaded.trial == nil && loaded.quarantine.isEmpty)
    }

    static func asJSON(_ state: DaemonState) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(state)) as? [String: Any])
    }

    /// A fifo in state.json's place is named, and does not block the start-up.
    @Test func aFifoInPlaceOfTheFileIsNamed() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        #expect(mkfifo(store.path, 0o644) == 0)
        #expect {
            try store.load()
        } throws: { error in
            "\(error)".contains("\(store.path): it is a fifo, not a file")
        }
    }

    @Test func aDirectoryInPlaceOfTheFileIsNamed() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try FileManager.default.createDirectory(atPath: store.path, withIntermediateDirectories: false)
        #expect {
            try store.load()
        } throws: { error in
            "\(error)".contains("\(store.path): it is a directory, not a file") && !"\(error)".contains("permission")
        }
    }

    /// A regular file where the state directory should be: a plain error, not a Foundation code.
    @Test func aFileInPlaceOfTheDirectoryIsNamed() throws {
        let directory = try Scratch()
        let blocker = try directory.write("", to: "blocker")
        let store = StateStore(directory: blocker)
        for attempt in [{ _ = try store.load() }, { try store.save(Self.populated) }] as [() throws -> Void] {
            #expect {
                try attempt()
            } throws: { error in
                let text = "\(error)"
                return text.contains("the state directory \(blocker) is unusable: it is a regular file, not a directory")
                    && !text.contains("CocoaError") && !text.contains("516")
            }
        }
    }

    @Test func aFileInThePathOfTheDirectoryIsNamed() throws {
        let directory = try Scratch()
        // A regular file where a parent of the state directory should be: fails even for root.
        let blocker = try directory.write("", to: "blocker")
        let store = StateStore(directory: blocker + "/state")
        #expect {
            try store.save(Self.populated)
        } throws: { error in
            guard case let .badDirectory(path, reason) = error as? StateError else { return false }
            return path == blocker + "/state" && reason == "a component of the path is a file, not a directory"
                && !"\(error)".contains("CocoaError")
        }
    }
}
